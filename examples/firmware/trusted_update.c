/* Trusted policy updates on a terminal (docs/releases.md): each artifact
 * named on the command line is loaded only if the acquirer's key signed it
 * and it is not older than the installed policy; the installed policy's
 * name, version and content hash (the floor) are kept in a file, as a
 * terminal keeps them across reboots.
 *
 *   trusted_update KEY_HEX FLOOR_FILE ARTIFACT...
 *
 * KEY_HEX is the 32-byte Ed25519 public key in hex. For each artifact one
 * line: "installed NAME VERSION" or "refused STATUS: REASON". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tollgate.h"
#include "update_io.h"

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: trusted_update KEY_HEX FLOOR_FILE ARTIFACT...\n");
        return 2;
    }
    uint8_t key[32];
    if (parse_key(argv[1], key) != 0) {
        fprintf(stderr, "bad key\n");
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        /* The floor, as persisted: absent before the first install. */
        char name[128] = "";
        unsigned long version = 0;
        unsigned long long hash = 0;
        tg_floor floor;
        const tg_floor *installed = NULL;
        FILE *ff = fopen(argv[2], "r");
        if (ff != NULL) {
            if (fscanf(ff, "%127s %lu %llx", name, &version, &hash) == 3) {
                floor.name = name;
                floor.version = (uint32_t)version;
                floor.hash = (uint64_t)hash;
                installed = &floor;
            }
            fclose(ff);
        }
        uint8_t *bytes;
        size_t len;
        if (read_file(argv[i], &bytes, &len) != 0) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 2;
        }
        tg_policy *policy = NULL;
        char message[256];
        tg_status s = tg_policy_load_trusted(bytes, len, key, 1, installed, &policy,
                                             message, sizeof message);
        if (s != TG_OK) {
            printf("refused %s: %s\n", tg_status_name(s), message);
            free(bytes);
            continue;
        }
        char new_name[128];
        uint32_t new_version;
        uint64_t new_hash;
        s = tg_artifact_identity(bytes, len, new_name, sizeof new_name, &new_version,
                                 &new_hash);
        free(bytes);
        if (s != TG_OK) {
            printf("identity failed: %s\n", tg_status_name(s));
            tg_policy_free(policy);
            return 1;
        }
        /* Persist the new floor only once the policy loaded. */
        ff = fopen(argv[2], "w");
        if (ff == NULL) {
            tg_policy_free(policy);
            return 2;
        }
        fprintf(ff, "%s %lu %016llx\n", new_name, (unsigned long)new_version,
                (unsigned long long)new_hash);
        fclose(ff);
        printf("installed %s %lu\n", new_name, (unsigned long)new_version);
        tg_policy_free(policy);
    }
    return 0;
}
