// Tokens both ways, checked by scripts/record-contract with TOKENS=1: the
// module (its own Apache, started here on $MODULE_PORT with the reference
// app's secret) and Payload accept each other's tokens once they share the
// secret, the user (same id) and the session the token names.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawn, execFileSync } = require('child_process');

const TOP = path.resolve(__dirname, '..');

function claims(token) {
    return JSON.parse(Buffer.from(token.split('.')[1], 'base64url'));
}
function header(token) {
    return JSON.parse(Buffer.from(token.split('.')[0], 'base64url'));
}
function sqlite(db, sql) {
    return execFileSync('sqlite3', [db, sql]).toString().trim();
}

async function startModule(secret) {
    const port = process.env.MODULE_PORT || '9090';
    const run = process.env.MODULE_RUNDIR || '/tmp/pchat-contract-module';
    fs.rmSync(run, { recursive: true, force: true });
    fs.mkdirSync(path.join(run, 'db'), { recursive: true });
    let conf = fs.readFileSync(path.join(TOP, 'conf/httpd.conf.in'), 'utf8')
        .replace(/@RUNDIR@/g, run).replace(/@TOP@/g, TOP)
        .replace(/@PORT@/g, port);
    let ug = '';
    if (process.getuid() === 0) {
        ug = 'User www-data\nGroup www-data';
        execFileSync('chown', ['www-data:www-data', path.join(run, 'db')]);
    }
    conf = conf.replace(/^@USERGROUP@$/m, ug)
        + `\nPayloadChatSecret "${secret}"\n`;
    fs.writeFileSync(path.join(run, 'httpd.conf'), conf);
    const child = spawn(process.env.HTTPD || '/usr/sbin/apache2',
                        ['-f', path.join(run, 'httpd.conf'), '-DFOREGROUND'],
                        { stdio: 'ignore', detached: true });
    const base = 'http://127.0.0.1:' + port;
    for (let i = 0; i < 40; i++) {
        try {
            await fetch(base + '/api/messages/count');
            return { base, child, db: path.join(run, 'db/payloadchat.sqlite') };
        }
        catch (e) {
            await new Promise((ok) => setTimeout(ok, 250));
        }
    }
    throw new Error('the module did not start on ' + base);
}

async function me(base, token) {
    const r = await fetch(base + '/api/users/me',
                          { headers: { Authorization: 'JWT ' + token } });
    const j = await r.json();
    return j.user ? j.user.email : null;
}

exports.check = async (payloadBase, st, secret, refDb) => {
    const mod = await startModule(secret);
    let failed = 0;
    const expect = (what, got, want) => {
        const ok = got === want;
        failed += !ok;
        console.log(`${ok ? 'ok' : 'FAILED'}: ${what} (${got})`);
    };
    try {
        // the same user, with the same id, on both sides
        const r = await fetch(mod.base + '/api/users/first-register', {
            method: 'POST', headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ email: 'alice@example.com',
                                   password: 'alice-pass-1' }) });
        const reg = await r.json();
        expect('alice has the same id in both', reg.user.id, st.ids.u1);
        const ours = reg.token;
        const theirs = st.tokens.alice;
        expect('module header as Payload signs',
               JSON.stringify(header(ours)), JSON.stringify(header(theirs)));
        expect('module claims as Payload signs',
               Object.keys(claims(ours)).join(), Object.keys(claims(theirs)).join());

        // Payload's token at the module: refused until the session is shared
        expect('Payload token, unknown session, at the module',
               await me(mod.base, theirs), null);
        const p = claims(theirs);
        sqlite(mod.db, 'INSERT INTO users_sessions (id, user_id, created_at, '
               + `expires_at) VALUES ('${p.sid}', ${p.id}, ${p.iat * 1000}, `
               + `${p.exp * 1000})`);
        expect('Payload token, shared session, at the module',
               await me(mod.base, theirs), 'alice@example.com');

        // the module's token at Payload
        expect('module token, unknown session, at Payload',
               await me(payloadBase, ours), null);
        const m = claims(ours);
        sqlite(refDb, 'INSERT INTO users_sessions (_order, _parent_id, id, '
               + `created_at, expires_at) VALUES (99, ${m.id}, '${m.sid}', `
               + `'${new Date(m.iat * 1000).toISOString()}', `
               + `'${new Date(m.exp * 1000).toISOString()}')`);
        expect('module token, shared session, at Payload',
               await me(payloadBase, ours), 'alice@example.com');
    }
    finally {
        process.kill(-mod.child.pid, 'SIGTERM');
    }
    if (failed) {
        throw new Error(failed + ' token checks failed');
    }
};
