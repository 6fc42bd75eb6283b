// Normalises an answer for the contract (t/contract/README.md); the same
// rules as normalise() in t/contract/payload.t, which must stay in step.
//  - ids of documents become the label of their creation ("u2", "m5"),
//    known by the collection of the object they are in (sender, receiver,
//    user: users; otherwise the collection of the request's path);
//  - ISO dates -> "<date>", JWTs -> "<token>", UUIDs -> "<uuid>",
//    numbers under exp/iat -> "<int>";
//  - an error's "name" (Payload's minified class name) -> "<name>".
'use strict';
const DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const JWT = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const USERS_KEYS = ['sender', 'receiver', 'user'];

function collOf(p) {
    return /^\/api\/users/.test(p) ? 'users' : 'messages';
}

function labels(ids) {
    const by = { users: {}, messages: {} };
    for (const [label, id] of Object.entries(ids)) {
        by[label[0] === 'u' ? 'users' : 'messages'][String(id)] = label;
    }
    return by;
}

function walk(v, coll, key, by) {
    if (Array.isArray(v)) {
        return v.map((x) => walk(x, coll, key, by));
    }
    if (v && typeof v === 'object') {
        const o = {};
        for (const k of Object.keys(v)) {
            const x = v[k];
            if (k === 'id' && (typeof x === 'number' || typeof x === 'string')
                && by[coll][String(x)]) {
                o[k] = by[coll][String(x)];
            }
            else if (USERS_KEYS.includes(k)) {
                o[k] = (typeof x === 'number' && by.users[String(x)])
                    ? by.users[String(x)] : walk(x, 'users', k, by);
            }
            else if ((k === 'exp' || k === 'iat') && typeof x === 'number') {
                o[k] = '<int>';
            }
            else if (k === 'name' && typeof x === 'string' && 'message' in v) {
                o[k] = '<name>';
            }
            else {
                o[k] = walk(x, coll, k, by);
            }
        }
        return o;
    }
    if (typeof v === 'string') {
        if (DATE.test(v)) {
            return '<date>';
        }
        if (JWT.test(v)) {
            return '<token>';
        }
        if (UUID.test(v)) {
            return '<uuid>';
        }
    }
    return v;
}

exports.normalise = (json, r, ids) =>
    JSON.stringify(walk(json, collOf(r.path), '', labels(ids)));
