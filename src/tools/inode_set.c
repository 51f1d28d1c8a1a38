/* Open addressing with linear probing, kept at most half full. */
#include "tools/inode_set.h"

#include <stdint.h>
#include <stdlib.h>

static size_t hash_key(dev_t device, ino_t inode) {
    /* splitmix64's finaliser spreads consecutive inode numbers. */
    uint64_t z = (uint64_t)inode ^ ((uint64_t)device * UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return (size_t)(z ^ (z >> 31));
}

static size_t find_slot(const inode_set *set, dev_t device, ino_t inode) {
    size_t slot = hash_key(device, inode) & (set->capacity - 1);
    while (set->used[slot] &&
           !(set->slots[slot].device == device && set->slots[slot].inode == inode)) {
        slot = (slot + 1) & (set->capacity - 1);
    }
    return slot;
}

static int grow(inode_set *set) {
    const size_t capacity = set->capacity == 0 ? 64 : set->capacity * 2;
    inode_set bigger = {
        .slots = calloc(capacity, sizeof(inode_key)),
        .used = calloc(capacity, 1),
        .capacity = capacity,
        .count = 0,
    };
    if (bigger.slots == NULL || bigger.used == NULL) {
        inode_set_free(&bigger);
        return 0;
    }
    for (size_t i = 0; i < set->capacity; i++) {
        if (set->used[i]) {
            const size_t slot = find_slot(&bigger, set->slots[i].device, set->slots[i].inode);
            bigger.slots[slot] = set->slots[i];
            bigger.used[slot] = 1;
            bigger.count++;
        }
    }
    inode_set_free(set);
    *set = bigger;
    return 1;
}

int inode_set_add(inode_set *set, dev_t device, ino_t inode) {
    if ((set->count + 1) * 2 > set->capacity && !grow(set)) {
        return -1;
    }
    const size_t slot = find_slot(set, device, inode);
    if (set->used[slot]) {
        return 0;
    }
    set->slots[slot].device = device;
    set->slots[slot].inode = inode;
    set->used[slot] = 1;
    set->count++;
    return 1;
}

void inode_set_free(inode_set *set) {
    free(set->slots);
    free(set->used);
    set->slots = NULL;
    set->used = NULL;
    set->capacity = 0;
    set->count = 0;
}
