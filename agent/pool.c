#include "pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct pool_job {
	void (*fn)(void *arg);
	void *arg;
	struct pool_job *next;
};

struct ev_pool {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t idle; /* the queue drained and nothing runs */
	struct pool_job *head, *tail;
	size_t running;
	bool stop;
	int n_threads;
	pthread_t *threads;
};

static void *worker(void *arg)
{
	struct ev_pool *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head && !p->stop)
			pthread_cond_wait(&p->work, &p->lock);
		if (!p->head && p->stop)
			break;
		struct pool_job *j = p->head;
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		p->running++;
		pthread_mutex_unlock(&p->lock);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&p->lock);
		p->running--;
		if (!p->head && p->running == 0)
			pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct ev_pool *ev_pool_new(int n_threads, struct ev_error *err)
{
	if (n_threads < 1 || n_threads > 1024) {
		ev_error_set(err, EV_E_CONFIG, "pool size %d out of range",
			     n_threads);
		return NULL;
	}
	struct ev_pool *p = calloc(1, sizeof(*p));
	pthread_t *threads = calloc((size_t)n_threads, sizeof(*threads));
	if (!p || !threads) {
		free(p);
		free(threads);
		ev_error_set(err, EV_E_NOMEM, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->threads = threads;
	for (int i = 0; i < n_threads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
			ev_error_set(err, EV_E_INTERNAL,
				     "cannot start worker thread %d", i);
			ev_pool_free(p);
			return NULL;
		}
		p->n_threads++;
	}
	return p;
}

enum ev_err ev_pool_submit(struct ev_pool *p, void (*fn)(void *arg), void *arg)
{
	struct pool_job *j = malloc(sizeof(*j));
	EV_ENSURE(j, EV_E_NOMEM);
	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	return EV_OK;
}

void ev_pool_wait(struct ev_pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->head || p->running)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void ev_pool_free(struct ev_pool *p)
{
	if (!p)
		return;
	if (p->n_threads)
		ev_pool_wait(p);
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->idle);
	free(p->threads);
	free(p);
}
