/* Users' authentication as Payload does it: password login, JWT tokens
 * bound to a server-side session, lockout after failed attempts. */
#ifndef PCHAT_AUTH_H
#define PCHAT_AUTH_H

#include "pchat_req.h"
#include "pchat_store.h"

/* Finds who is asking from the Authorization header (JWT or Bearer) or the
 * payload-token cookie.  No credentials: *user = NULL and no error; bad
 * ones: a 401 error. */
pchat_error *pchat_auth_resolve(pchat_req *q, pchat_user **user);

/* Cookie credentials ride along on requests other sites make: a request
 * that changes state with cookie auth must come from this site or an
 * origin of PayloadChatCORSOrigins.  Returns the 403 or NULL. */
pchat_error *pchat_auth_csrf(pchat_req *q);

/* A login (or first-register) sets the session cookie: one from a page of
 * another site (Origin or Referer neither this site nor an origin of
 * PayloadChatCORSOrigins) would log the browser in as someone else.
 * Returns the 403 or NULL. */
pchat_error *pchat_auth_csrf_login(request_rec *r);

/* Hashing is slow on purpose; at most a few run at once per process so
 * logins cannot take every worker thread.  0, or -1 when busy. */
int pchat_auth_hash_slot_acquire(void);
void pchat_auth_hash_slot_release(void);

/* Every request that hashes a password (login, sign-up, a new password)
 * counts against the client address's PayloadChatMaxLoginsPerMinute.
 * Returns the 429 (with Retry-After) or NULL. */
pchat_error *pchat_auth_hash_allowed(request_rec *r);

/* Answers 503 with Retry-After when no hashing slot came free. */
int pchat_auth_busy(request_rec *r);

#define PCHAT_MSG_REGISTERED "Successfully registered first user."

/* Opens a session for user id and answers with the token, as login does
 * (message PCHAT_MSG_REGISTERED: as first-register does). */
int pchat_auth_start_session(pchat_req *q, pchat_conn *c, apr_int64_t id,
                             const char *message);

int pchat_auth_login(pchat_req *q);
int pchat_auth_logout(pchat_req *q);
int pchat_auth_me(pchat_req *q);
int pchat_auth_refresh(pchat_req *q);
/* POST /users/forgot-password, reset-password and unlock (Payload's). */
int pchat_auth_forgot(pchat_req *q);
int pchat_auth_reset(pchat_req *q);
int pchat_auth_unlock(pchat_req *q);

/* Creates this child's hashing limiter (child_init). */
void pchat_auth_child_init(apr_pool_t *pchild);

#endif
