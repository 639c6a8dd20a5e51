/* http_metrics.c - the HTTP series of /metrics: requests by route and
 * status, latency histograms by route, requests in flight, open streams. */
#include "net/http_internal.h"

void http_metrics_render(struct http_server *s, struct buf *out)
{
    buf_appends(out, "# HELP linli_http_requests_total Requests answered, by route and status.\n"
                     "# TYPE linli_http_requests_total counter\n");
    for (int i = 0; i <= HTTP_MAX_ROUTES; i++) {
        struct route *r = &s->routes[i];
        if (i >= s->nroutes && i != HTTP_MAX_ROUTES)
            continue;
        for (int k = 0; k < HTTP_NSTATUS; k++) {
            uint64_t n = atomic_load_explicit(&r->count[k], memory_order_relaxed);
            if (!n)
                continue;
            char st[8];
            if (http__counted_status[k])
                snprintf(st, sizeof st, "%d", http__counted_status[k]);
            else
                snprintf(st, sizeof st, "other");
            buf_printf(out,
                       "linli_http_requests_total{method=\"%s\",route=\"%s\",status=\"%s\"} %llu\n",
                       r->method, r->pattern, st, (unsigned long long)n);
        }
    }
    buf_appends(out, "# HELP linli_http_request_seconds Time from first byte to answer, by route.\n"
                     "# TYPE linli_http_request_seconds histogram\n");
    for (int i = 0; i <= HTTP_MAX_ROUTES; i++) {
        struct route *r = &s->routes[i];
        if ((i >= s->nroutes && i != HTTP_MAX_ROUTES) ||
            atomic_load_explicit(&r->seconds.count, memory_order_relaxed) == 0)
            continue;
        char labels[200];
        snprintf(labels, sizeof labels, "method=\"%s\",route=\"%s\"", r->method, r->pattern);
        hist_render(out, "linli_http_request_seconds", labels, &r->seconds);
    }
    buf_printf(out,
               "# HELP linli_http_inflight Requests being handled now.\n"
               "# TYPE linli_http_inflight gauge\nlinli_http_inflight %d\n"
               "# HELP linli_http_streams Open event streams.\n"
               "# TYPE linli_http_streams gauge\nlinli_http_streams %d\n",
               atomic_load(&s->inflight), s->nstreams);
}

void http_print_routes(struct http_server *s, FILE *out)
{
    for (int i = 0; i < s->nroutes; i++)
        fprintf(out, "%s %s\n", s->routes[i].method, s->routes[i].pattern);
}
