// TAP for the browser tests: numbered results, attempts that turn an
// exception into a failed test with its stack, and the run's end.
export const tap = { n: 0, failed: 0 };

export function ok(cond, name, diag) {
  tap.n += 1;
  console.log(`${cond ? 'ok' : 'not ok'} ${tap.n} - ${name}`);
  if (!cond) {
    tap.failed += 1;
    // (a failure's name and diag go to stderr too: the harness shows
    // stderr when it is not verbose, as in make test)
    console.error(`# failed: ${name}`);
    if (diag) {
      console.log(`# ${String(diag).replace(/\n/g, '\n# ')}`);
      console.error(`# ${String(diag).split('\n').slice(0, 8).join('\n# ')}`);
    }
  }
  return cond;
}

export async function attempt(name, fn) {
  try {
    return ok(await fn(), name);
  } catch (e) {
    return ok(false, name, e.stack || e);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs main with a time guard; exits 1 on any failure or a crash.
export function runTest(main, seconds) {
  const guard = setTimeout(() => {
    console.log(`# the browser test ran out of time (${seconds} s)`);
    process.exit(1);
  }, seconds * 1000);
  main().then(() => {
    clearTimeout(guard);
    process.exit(tap.failed ? 1 : 0);
  }, (e) => {
    console.log(`not ok ${tap.n + 1} - the test crashed\n# ${e.stack || e}`);
    process.exit(1);
  });
}
