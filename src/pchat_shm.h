/* Counters shared by every child process of this Apache: a change counter
 * that writers bump after each commit, and live subscribers per child. */
#ifndef PCHAT_SHM_H
#define PCHAT_SHM_H

#include "pchat_private.h"

/* Creates the shared segment (parent, post_config). */
apr_status_t pchat_shm_setup(apr_pool_t *pconf, server_rec *s);
/* Claims this child's slot (child_init). */
void pchat_shm_child_init(apr_pool_t *pchild, server_rec *s);
/* Frees the slot of a child that has exited (parent, child_status hook). */
void pchat_shm_child_exited(pid_t pid);

/* After a committed change to messages. */
void pchat_shm_notify_change(void);
apr_uint32_t pchat_shm_changes(void);

/* Adds delta to this child's subscribers; returns the new node total. */
apr_uint32_t pchat_shm_subscribers_add(int delta);
apr_uint32_t pchat_shm_subscribers_total(void);
/* The subscribers among them over HTTP/2 (each holds an h2 worker). */
void pchat_shm_h2_subscribers_add(int delta);
apr_uint32_t pchat_shm_h2_subscribers_total(void);
/* This child's h2 connections with a stream open (each holds an MPM
 * worker). */
void pchat_shm_h2_connections_add(int delta);

/* Adds to this child's open and in-use database connections. */
void pchat_shm_db_add(int open, int busy);

/* What a child process's slot holds, for the status page and metrics. */
typedef struct {
    apr_uint32_t pid;
    apr_uint32_t subscribers;
    apr_uint32_t h2_subscribers;
    apr_uint32_t h2_connections;
    apr_uint32_t db_open;
    apr_uint32_t db_busy;
} pchat_shm_child;
typedef void (*pchat_shm_child_fn)(void *baton, const pchat_shm_child *c);
/* Calls fn for every live child; returns how many. */
int pchat_shm_child_each(pchat_shm_child_fn fn, void *baton);

/* Takes one of max stream places of a client address; 0 when it has
 * them all.  Give it back with pchat_shm_client_stream_release. */
int pchat_shm_client_stream_take(const char *addr, int max);
void pchat_shm_client_stream_release(const char *addr);
/* Counts a login attempt of the address; 0 when it made max this minute
 * already (max 0: no limit). */
int pchat_shm_client_login_allowed(const char *addr, int max);

#endif
