/* Crash safety: a writer killed with SIGKILL in the middle of a batch leaves
 * a consistent catalogue holding every committed photo and no uncommitted
 * one. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalogue_fixture.h"

#define TAGS_PER_PHOTO 2

static char *folder;
static char database[600];

static void fresh_folder(void) {
    remove_scratch_folder(folder);
    folder = make_scratch_folder();
    snprintf(database, sizeof(database), "%s/catalog.sqlite", folder);
}

/* The child's side: records photos numbered from `first` on, each with two
 * tags, in batches of `batch_photos`, until killed or `last` is reached.
 * With `ready` >= 0, after `signal_after` photos it writes one byte to
 * `ready` and waits, inside its open batch, to be killed. Exits with 0 only
 * if every call succeeded. */
static void run_writer(int batch_photos, int first, int last, int signal_after, int ready) {
    picotag_catalogue_options options = {.batch_photos = batch_photos,
                                         .batch_milliseconds = 600000};
    picotag_catalogue *catalogue = NULL;
    picotag_error error;
    if (picotag_catalogue_open(database, &options, &catalogue, &error) != PICOTAG_OK ||
        picotag_catalogue_use_model(catalogue, &model_a, NULL, &error) != PICOTAG_OK ||
        picotag_catalogue_begin(catalogue, &error) != PICOTAG_OK) {
        fprintf(stderr, "writer: %s\n", error.message);
        _exit(2);
    }

    picotag_tag tags[TAGS_PER_PHOTO] = {make_tag(LABEL_DOG, 0.9), make_tag(LABEL_PERSON, 0.4)};
    for (int number = first; number < last; number++) {
        photo_file photo = virtual_photo(folder, number);
        if (record_photo(catalogue, &photo, tags, TAGS_PER_PHOTO, &error) != PICOTAG_OK) {
            fprintf(stderr, "writer: %s\n", error.message);
            _exit(3);
        }
        if (number - first + 1 == signal_after && ready >= 0) {
            char byte = 'r';
            if (write(ready, &byte, 1) != 1) {
                _exit(4);
            }
            for (;;) {
                pause();
            }
        }
    }
    if (picotag_catalogue_commit(catalogue, &error) != PICOTAG_OK) {
        _exit(5);
    }
    picotag_catalogue_close(catalogue);
    _exit(0);
}

/* Opens the catalogue as the next run would, and checks its integrity. */
static picotag_catalogue *reopen_and_check(void) {
    picotag_catalogue *catalogue = NULL;
    picotag_error error;
    CHECK_OK(picotag_catalogue_open(database, NULL, &catalogue, &error), error);
    if (catalogue != NULL) {
        CHECK_OK(picotag_catalogue_check(catalogue, &error), error);
    }
    return catalogue;
}

static void kill_mid_batch_keeps_committed_photos(void) {
    fresh_folder();
    int ready[2];
    CHECK(pipe(ready) == 0);
    fflush(NULL);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        close(ready[0]);
        /* 10 photos commit as one batch; the next 5 are written in the
         * open batch when the child signals and waits to be killed. */
        run_writer(10, 0, 19, 15, ready[1]);
    }
    close(ready[1]);

    char byte = 0;
    CHECK_INT(1, read(ready[0], &byte, 1));
    close(ready[0]);
    CHECK(kill(child, SIGKILL) == 0);
    int wait_status = 0;
    CHECK(waitpid(child, &wait_status, 0) == child);
    CHECK(WIFSIGNALED(wait_status));
    CHECK_INT(SIGKILL, WTERMSIG(wait_status));

    picotag_catalogue *catalogue = reopen_and_check();
    if (catalogue == NULL) {
        return;
    }
    int64_t photos = -1;
    int64_t tags = -1;
    picotag_error error;
    CHECK_OK(picotag_catalogue_count(catalogue, &photos, &tags, &error), error);
    CHECK_INT(10, photos);
    CHECK_INT(10 * TAGS_PER_PHOTO, tags);

    CHECK_OK(picotag_catalogue_use_model(catalogue, &model_a, NULL, &error), error);
    for (int number = 0; number < 19; number++) {
        photo_file photo = virtual_photo(folder, number);
        picotag_photo_lookup found;
        CHECK_OK(picotag_catalogue_lookup(catalogue, photo.path, photo.size_bytes,
                                          photo.mtime_ns, &found, &error),
                 error);
        CHECK_INT(number < 10 ? PICOTAG_PHOTO_UNCHANGED : PICOTAG_PHOTO_NEW, found.decision);
    }
    picotag_catalogue_close(catalogue);
}

static void kill_at_random_moments_keeps_whole_batches(void) {
    fresh_folder();
    /* Fixed delays, so that a failure can be reproduced. */
    static const int delays_us[] = {2000, 7000, 13000, 29000, 41000, 3000};
    const int batch_photos = 5;
    int64_t recorded = 0;

    for (size_t round = 0; round < sizeof(delays_us) / sizeof(delays_us[0]); round++) {
        fflush(NULL);
        pid_t child = fork();
        CHECK(child >= 0);
        if (child == 0) {
            run_writer(batch_photos, (int)recorded, (int)recorded + 100000, -1, -1);
        }
        usleep((useconds_t)delays_us[round]);
        kill(child, SIGKILL);
        int wait_status = 0;
        CHECK(waitpid(child, &wait_status, 0) == child);
        CHECK(WIFSIGNALED(wait_status));

        picotag_catalogue *catalogue = reopen_and_check();
        if (catalogue == NULL) {
            return;
        }
        int64_t photos = -1;
        int64_t tags = -1;
        picotag_error error;
        CHECK_OK(picotag_catalogue_count(catalogue, &photos, &tags, &error), error);
        picotag_catalogue_close(catalogue);

        if (photos % batch_photos != 0 || tags != photos * TAGS_PER_PHOTO ||
            photos < recorded) {
            fprintf(stderr, "    round %zu (killed after %d us): %lld photos, %lld tags\n",
                    round, delays_us[round], (long long)photos, (long long)tags);
        }
        CHECK_INT(0, photos % batch_photos);
        CHECK_INT(photos * TAGS_PER_PHOTO, tags);
        CHECK(photos >= recorded);
        recorded = photos;
    }
    /* Every photo has its full set of tags: none was half written. */
    CHECK_INT(0, query_integer(database, "SELECT count(*) FROM photos p WHERE (SELECT count(*) "
                                         "FROM tags t WHERE t.photo_id = p.id) != 2"));
}

int main(void) {
    RUN_TEST(kill_mid_batch_keeps_committed_photos);
    RUN_TEST(kill_at_random_moments_keeps_whole_batches);
    remove_scratch_folder(folder);
    return harness_finish();
}
