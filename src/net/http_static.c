/* http_static.c - serves files from the static directory (the web pages)
 * for GET and HEAD requests no route claims, refusing any path that could
 * leave the directory. */
#include "net/http_internal.h"

#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *mime_type(const char *path)
{
    static const char *const map[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".webp", "image/webp"},
        {".ico", "image/x-icon"},
        {".geojson", "application/geo+json"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
        {".map", "application/json"},
    };
    const char *dot = strrchr(path, '.');
    if (dot)
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (!strcmp(dot, map[i][0]))
                return map[i][1];
    return "application/octet-stream";
}

void http_respond_static(struct http_request *req)
{
    struct linli_err err;
    linli_err_clear(&err);
    struct http_server *s = req->server;
    const char *p = req->path;
    if (!s->static_dir[0]) {
        linli_fail(&err, LINLI_ENOTFOUND, "No resource at %s.", p);
        http_respond_problem(req, 404, &err);
        return;
    }
    /* Refuse anything that could step outside the directory: "..", ".",
     * empty segments, backslashes, control characters. */
    for (const char *c = p; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == '\\') {
            linli_fail(&err, LINLI_EINVAL, "The path has characters not allowed in a file name.");
            http_respond_problem(req, 400, &err);
            return;
        }
    }
    for (const char *seg = p; seg; seg = strchr(seg + 1, '/')) {
        const char *name = seg + 1;
        size_t len = strcspn(name, "/");
        if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.') ||
            (len == 0 && name[0] == '/')) {
            linli_fail(&err, LINLI_EINVAL, "The path may not contain \".\", \"..\" or \"//\".");
            http_respond_problem(req, 400, &err);
            return;
        }
    }
    char full[PATH_MAX], real[PATH_MAX];
    size_t plen = strlen(p);
    int n = snprintf(full, sizeof full, "%s%s%s", s->static_dir, p,
                     (plen > 0 && p[plen - 1] == '/') ? "index.html" : "");
    struct stat stt;
    if (n > 0 && (size_t)n < sizeof full && stat(full, &stt) == 0 && S_ISDIR(stt.st_mode) &&
        strlen(full) + 12 < sizeof full)
        strcat(full, "/index.html");
    size_t dlen = strlen(s->static_dir);
    if (n < 0 || (size_t)n >= sizeof full || !realpath(full, real) ||
        strncmp(real, s->static_dir, dlen) != 0 || (real[dlen] != '/' && real[dlen] != '\0')) {
        linli_fail(&err, LINLI_ENOTFOUND, "No page or file at %s.", p);
        http_respond_problem(req, 404, &err);
        return;
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &stt) != 0 || !S_ISREG(stt.st_mode)) {
        if (fd >= 0)
            close(fd);
        linli_fail(&err, LINLI_ENOTFOUND, "No page or file at %s.", p);
        http_respond_problem(req, 404, &err);
        return;
    }
    /* A validator from size and modification time, so a browser that has
     * the file asks "still the same?" and gets 304 without the body. */
    char etag[64];
    snprintf(etag, sizeof etag, "W/\"%llx-%llx\"", (unsigned long long)stt.st_size,
             (unsigned long long)stt.st_mtim.tv_sec * 1000000000ull +
                 (unsigned long long)stt.st_mtim.tv_nsec);
    const char *type = mime_type(real);
    /* The front-end libraries under /vendor/ change only with a new build;
     * the pages themselves are checked again on every visit. */
    http_add_header(req, "Cache-Control",
                    !strncmp(p, "/vendor/", 8) ? "public, max-age=86400" : "no-cache");
    http_add_header(req, "ETag", etag);
    const char *inm = http_header(req, "If-None-Match");
    if (inm && strstr(inm, etag)) {
        close(fd);
        http_respond(req, 304, NULL, "", 0);
        return;
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)stt.st_size, fd);
    if (!resp) {
        close(fd);
        return;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (!strncmp(type, "text/html", 9)) {
        /* Pages run only their own scripts and talk only to this server;
         * map tiles may come from elsewhere (--map-tiles), as images. */
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; script-src 'self'; style-src 'self' "
                                "'unsafe-inline'; img-src 'self' data: blob: https: http:; "
                                "connect-src 'self'; object-src 'none'; base-uri 'none'; "
                                "frame-ancestors 'none'; form-action 'self'");
        MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
    }
    http__queue(req, 200, resp);
}
