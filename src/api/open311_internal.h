/* open311_internal.h - what the files of the Open311 facade share:
 * open311.c (routes, answers and errors, discovery and services),
 * open311_requests.c (reading requests and updates) and open311_post.c
 * (submitting a request). */
#ifndef LINLI_OPEN311_INTERNAL_H
#define LINLI_OPEN311_INTERNAL_H

#include "api/api.h"

#include <stdarg.h>

#define OPEN311_JURISDICTION_DEFAULT "chaoyang.linli"
#define OPEN311_SEGMENT_MAX          64 /* bytes of a path segment without its suffix */

/* The two formats, chosen by the path's suffix. */
enum open311_format { OPEN311_JSON, OPEN311_XML };

/* The format of a path or path segment ending in ".json" or ".xml", with the
 * part before the suffix copied into `stem` (NULL = not wanted). -1 for any
 * other ending, or a stem that does not fit. */
int open311__format(const char *text, char *stem, size_t stem_size);

/* Answers `v` (reference taken) with `status` in `fmt`; in XML as the
 * element `root`. */
void open311__respond(struct http_request *req, int fmt, int status, const char *root, json_t *v);

/* Answers one Open311 error: [{"code": status, "description": ...}]. */
void open311__error(struct http_request *req, int fmt, int status, const char *description, ...)
    __attribute__((format(printf, 4, 5)));

/* Answers the errors in `err`: its status mapped to HTTP (EINVAL 400,
 * EFORBIDDEN and EUNAUTH 403, ENOTFOUND 404, ...), one error per field
 * problem with the field named as the Open311 parameter it came from
 * ("attributes.size" -> "attribute[size]", "category" -> "service_code",
 * "point" -> "lat/long", ...), else one with the detail. */
void open311__fail(struct http_request *req, int fmt, const struct linli_err *err);

/* Answers 404 and returns -1 when `given` (NULL or "" = absent) is not our
 * jurisdiction_id. */
int open311__jurisdiction(struct api *a, struct http_request *req, int fmt, const char *given);

/* The format of a document directly under /open311/v2 (the route's
 * dispatcher has checked its suffix). */
int open311__doc_format(struct http_request *req);

/* The format of the path's "{x}.json" or "{x}.xml" segment, with x copied
 * into `stem`; answers 404 and returns -1 for another ending. */
int open311__segment_format(struct http_request *req, char *stem, size_t size);

/* JSON values as Open311 writes them: text or null for ""; a time in
 * Beijing time with its offset, or null for 0; an id as a string. */
json_t *open311__text(const char *s);
json_t *open311__time(int64_t ms);
json_t *open311__id(int64_t id);

/* The handlers (ctx is the struct api). */
void open311__post_request(struct http_request *req, void *ctx);  /* open311_post.c */
void open311__requests_list(struct http_request *req, void *ctx); /* open311_requests.c */
void open311__request_get(struct http_request *req, void *ctx);   /* open311_requests.c */
void open311__token_get(struct http_request *req, void *ctx);     /* open311_requests.c */
void open311__updates(struct http_request *req, void *ctx);       /* open311_requests.c */

#endif
