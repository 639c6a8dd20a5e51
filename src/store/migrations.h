/* migrations.h - the schema, as numbered steps compiled into the binary. */
#ifndef LINLI_MIGRATIONS_H
#define LINLI_MIGRATIONS_H

struct migration {
    int version; /* 1, 2, 3, ... without gaps */
    const char *name;
    const char *sql;
};

extern const struct migration store_migrations[];
extern const int store_migration_count;

#endif
