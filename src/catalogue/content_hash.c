/*
 * Content hashes of photo files.
 *
 * SHA-256 (OpenSSL's libcrypto) rather than a fast 64-bit hash, because a
 * match moves a record and its tags to another path. A collision would
 * silently give one photo another's tags, and SHA-256 makes that impossible
 * in practice for any library size. libcrypto uses the SHA extensions of x86
 * and Armv8 where the CPU has them. Hashing runs only for new or changed
 * files, which are read in full for decoding anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "catalogue/catalogue_internal.h"

#define READ_CHUNK_BYTES (256 * 1024)

static picotag_status digest_failure(const char *name, picotag_error *error) {
    return picotag_error_set(error, PICOTAG_ERROR_OUT_OF_MEMORY,
                             "%s: cannot compute SHA-256 (OpenSSL digest failed)", name);
}

/* Feeds the file to `context` until end of file. */
static picotag_status hash_descriptor(int fd, const char *path, EVP_MD_CTX *context,
                                      int64_t *total_bytes, picotag_error *error) {
    unsigned char *chunk = OPENSSL_malloc(READ_CHUNK_BYTES);
    if (chunk == NULL) {
        return digest_failure(path, error);
    }

    picotag_status status = PICOTAG_OK;
    *total_bytes = 0;
    for (;;) {
        ssize_t got = read(fd, chunk, READ_CHUNK_BYTES);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            status = picotag_error_set(error, PICOTAG_ERROR_IO, "%s: cannot read: %s", path,
                                       strerror(errno));
            break;
        }
        if (got == 0) {
            break;
        }
        if (EVP_DigestUpdate(context, chunk, (size_t)got) != 1) {
            status = digest_failure(path, error);
            break;
        }
        *total_bytes += got;
    }
    OPENSSL_free(chunk);
    return status;
}

picotag_status picotag_content_hash_file(const char *path,
                                         uint8_t hash[PICOTAG_CONTENT_HASH_BYTES],
                                         int64_t *size_bytes, picotag_error *error) {
    if (path == NULL || hash == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "picotag_content_hash_file: the path or hash buffer is missing");
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return picotag_error_set(error, PICOTAG_ERROR_IO, "%s: cannot open: %s", path,
                                 strerror(errno));
    }
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    if (context == NULL || EVP_DigestInit_ex(context, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(context);
        close(fd);
        return digest_failure(path, error);
    }

    int64_t total = 0;
    picotag_status status = hash_descriptor(fd, path, context, &total, error);
    unsigned int digest_bytes = 0;
    if (status == PICOTAG_OK && (EVP_DigestFinal_ex(context, hash, &digest_bytes) != 1 ||
                                 digest_bytes != PICOTAG_CONTENT_HASH_BYTES)) {
        status = digest_failure(path, error);
    }
    EVP_MD_CTX_free(context);
    close(fd);

    if (status == PICOTAG_OK && size_bytes != NULL) {
        *size_bytes = total;
    }
    return status;
}

picotag_status picotag_content_hash_memory(const void *data, size_t size,
                                           uint8_t hash[PICOTAG_CONTENT_HASH_BYTES],
                                           picotag_error *error) {
    if ((data == NULL && size > 0) || hash == NULL) {
        return picotag_error_set(error, PICOTAG_ERROR_INVALID_ARGUMENT,
                                 "picotag_content_hash_memory: the data or hash buffer is missing");
    }
    unsigned int digest_bytes = 0;
    if (EVP_Digest(data, size, hash, &digest_bytes, EVP_sha256(), NULL) != 1 ||
        digest_bytes != PICOTAG_CONTENT_HASH_BYTES) {
        return digest_failure("memory buffer", error);
    }
    return PICOTAG_OK;
}
