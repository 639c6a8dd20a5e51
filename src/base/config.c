/* config.c - loading settings (see config.h for the precedence rules). */
#include "base/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const struct cfg_option *find(const struct cfg_option *opts, size_t n, const char *name,
                                     size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static int set_value(const struct cfg_option *o, void *target, const char *value,
                     const char *origin, struct linli_err *err)
{
    char *field = (char *)target + o->offset;
    switch (o->type) {
    case CFG_STR:
        if (strlen(value) >= o->size)
            return linli_fail(err, LINLI_EINVAL, "%s: %s is longer than %zu characters", origin,
                              o->name, o->size - 1);
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case CFG_INT: {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        if (errno || end == value || *end)
            return linli_fail(err, LINLI_EINVAL, "%s: %s wants a whole number, not \"%s\"", origin,
                              o->name, value);
        if (v < o->min || v > o->max)
            return linli_fail(err, LINLI_EINVAL, "%s: %s must be between %ld and %ld, not %ld",
                              origin, o->name, o->min, o->max, v);
        *(long *)(void *)field = v;
        return 0;
    }
    case CFG_BOOL:
        if (!strcmp(value, "1") || !strcmp(value, "true") || !strcmp(value, "yes") ||
            !strcmp(value, "on"))
            *(int *)(void *)field = 1;
        else if (!strcmp(value, "0") || !strcmp(value, "false") || !strcmp(value, "no") ||
                 !strcmp(value, "off"))
            *(int *)(void *)field = 0;
        else
            return linli_fail(err, LINLI_EINVAL, "%s: %s wants true or false, not \"%s\"", origin,
                              o->name, value);
        return 0;
    }
    return LINLI_EINVAL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static int load_file(const struct cfg_option *opts, size_t n, void *target, const char *path,
                     struct linli_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return linli_fail(err, LINLI_EINVAL, "cannot read config file %s: %s", path,
                          strerror(errno));
    char line[1024];
    int lineno = 0, rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        char origin[300];
        snprintf(origin, sizeof origin, "%s:%d", path, lineno);
        if (!eq) {
            rc = linli_fail(err, LINLI_EINVAL, "%s: expected \"name = value\"", origin);
            break;
        }
        *eq = '\0';
        char *name = trim(s), *value = trim(eq + 1);
        const struct cfg_option *o = find(opts, n, name, strlen(name));
        if (!o || !strcmp(name, "config"))
            rc = linli_fail(err, LINLI_EINVAL, "%s: unknown setting \"%s\"", origin, name);
        else
            rc = set_value(o, target, value, origin, err);
    }
    fclose(f);
    return rc;
}

int cfg_load(const struct cfg_option *opts, size_t n, void *target, int argc, char **argv,
             int *rest, struct linli_err *err)
{
    int rc;
    for (size_t i = 0; i < n; i++)
        if (opts[i].def && (rc = set_value(&opts[i], target, opts[i].def, "default", err)))
            return rc;

    /* The config file comes first so environment and flags override it. */
    const char *file = getenv("LINLI_CONFIG");
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strncmp(argv[i], "--config=", 9))
            file = argv[i] + 9;
        else if (!strcmp(argv[i], "--config") && i + 1 < argc)
            file = argv[i + 1];
    }
    if (file && *file && (rc = load_file(opts, n, target, file, err)))
        return rc;

    for (size_t i = 0; i < n; i++) {
        char env[96] = "LINLI_";
        size_t k = 6;
        for (const char *p = opts[i].name; *p && k < sizeof env - 1; p++)
            env[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        env[k] = '\0';
        const char *v = getenv(env);
        if (v && strcmp(opts[i].name, "config") && (rc = set_value(&opts[i], target, v, env, err)))
            return rc;
    }

    if (rest)
        *rest = argc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return 1;
        if (strncmp(a, "--", 2) != 0 || !strcmp(a, "--")) {
            if (rest) {
                *rest = !strcmp(a, "--") ? i + 1 : i;
                return 0;
            }
            return linli_fail(err, LINLI_EINVAL, "unexpected argument \"%s\" (see --help)", a);
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct cfg_option *o = find(opts, n, name, len);
        if (!o)
            return linli_fail(err, LINLI_EINVAL, "unknown option --%.*s (see --help)", (int)len,
                              name);
        const char *value;
        if (eq)
            value = eq + 1;
        else if (o->type == CFG_BOOL)
            value = "true";
        else if (i + 1 < argc)
            value = argv[++i];
        else
            return linli_fail(err, LINLI_EINVAL, "option --%s needs a value", o->name);
        char origin[80];
        snprintf(origin, sizeof origin, "--%s", o->name);
        if ((rc = set_value(o, target, value, origin, err)))
            return rc;
    }
    return 0;
}

void cfg_print_help(FILE *out, const struct cfg_option *opts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char env[96] = "LINLI_";
        size_t k = 6;
        for (const char *p = opts[i].name; *p && k < sizeof env - 1; p++)
            env[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        env[k] = '\0';
        const char *arg = opts[i].type == CFG_INT ? " N" : opts[i].type == CFG_STR ? " TEXT" : "";
        char flag[80];
        snprintf(flag, sizeof flag, "--%s%s", opts[i].name, arg);
        fprintf(out, "  %-28s %s\n  %-28s env %s", flag, opts[i].help, "", env);
        if (opts[i].def && *opts[i].def)
            fprintf(out, ", default %s", opts[i].def);
        fprintf(out, "\n");
    }
}
