/* A set of files identified by (device, inode): folders already walked, so
 * that a symbolic link loop ends, and files already listed, so that a photo
 * reached by two paths is tagged once. */
#ifndef PICOTAG_TOOLS_INODE_SET_H
#define PICOTAG_TOOLS_INODE_SET_H

#include <stddef.h>
#include <sys/types.h>

typedef struct inode_key {
    dev_t device;
    ino_t inode;
} inode_key;

typedef struct inode_set {
    inode_key *slots;
    unsigned char *used;
    size_t capacity;     /* a power of two, or 0 */
    size_t count;
} inode_set;

/* Adds the key. Returns 1 when it was added, 0 when it was already there,
 * -1 when memory ran out. A zeroed inode_set is an empty set. */
int inode_set_add(inode_set *set, dev_t device, ino_t inode);

void inode_set_free(inode_set *set);

#endif
