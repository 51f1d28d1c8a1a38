/* The command's messages in English and Korean. */
#include "tools/messages.h"

#include <stdlib.h>
#include <string.h>

typedef struct message_pair {
    const char *english;
    const char *korean;
} message_pair;

static const message_pair messages[MESSAGE_COUNT] = {
    [MESSAGE_TABLE_PHOTO] = {"photo", "사진"},
    [MESSAGE_TABLE_TAGS] = {"tags", "태그"},
    [MESSAGE_NO_TAGS] = {"(no tags)", "(태그 없음)"},
    [MESSAGE_PROGRESS_UNIT] = {"photos", "장"},
    [MESSAGE_CANNOT_READ_PHOTO] = {"cannot read the photo", "사진을 읽지 못했습니다"},
    [MESSAGE_CANNOT_RUN_MODEL] = {"cannot run the model on the photo",
                                  "사진에 모델을 실행하지 못했습니다"},
    [MESSAGE_CANNOT_WRITE_SIDECAR] = {"cannot write the XMP sidecar",
                                      "XMP 사이드카 파일을 쓰지 못했습니다"},
    [MESSAGE_CANNOT_READ_FOLDER] = {"cannot read the folder, skipped",
                                    "폴더를 읽지 못해 건너뛰었습니다"},
    [MESSAGE_CANNOT_FIND_PATH] = {"cannot find the file or folder",
                                  "파일이나 폴더를 찾지 못했습니다"},
    [MESSAGE_NOT_A_PHOTO_OR_FOLDER] = {"not a regular file or folder, skipped",
                                       "일반 파일이나 폴더가 아니어서 건너뛰었습니다"},
    [MESSAGE_NO_MATCHES] = {"No photos match the search.", "검색 조건에 맞는 사진이 없습니다."},
    [MESSAGE_WATCH_MOVED] = {"moved", "이동됨"},
    [MESSAGE_WATCH_REMOVED] = {"removed", "삭제됨"},
    [MESSAGE_WATCH_RESCANNING] = {"Too many changes at once; scanning the folders again.",
                                  "변경 사항이 너무 많아 폴더를 다시 검사합니다."},
    [MESSAGE_WATCH_CANNOT_WATCH_FOLDER] = {"cannot watch the folder",
                                           "폴더를 지켜보지 못했습니다"},
};

const char *message_text(picotag_language language, message_id id) {
    if (id < 0 || id >= MESSAGE_COUNT) {
        return "";
    }
    return language == PICOTAG_LANGUAGE_KOREAN ? messages[id].korean : messages[id].english;
}

picotag_language language_from_environment(void) {
    static const char *const variables[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < sizeof(variables) / sizeof(variables[0]); i++) {
        const char *value = getenv(variables[i]);
        if (value != NULL && value[0] != '\0') {
            return strncmp(value, "ko", 2) == 0 ? PICOTAG_LANGUAGE_KOREAN : PICOTAG_LANGUAGE_ENGLISH;
        }
    }
    return PICOTAG_LANGUAGE_ENGLISH;
}

int language_parse(const char *text, picotag_language *language) {
    if (strcmp(text, "ko") == 0) {
        *language = PICOTAG_LANGUAGE_KOREAN;
        return 1;
    }
    if (strcmp(text, "en") == 0) {
        *language = PICOTAG_LANGUAGE_ENGLISH;
        return 1;
    }
    return 0;
}

/* English needs a plural only where the count is not 1. */
static const char *photos_word(int64_t count) {
    return count == 1 ? "photo" : "photos";
}

void message_print_tag_summary(FILE *stream, picotag_language language,
                               const run_counts *counts, double seconds) {
    if (language == PICOTAG_LANGUAGE_KOREAN) {
        fprintf(stream, "사진 %lld장을 태그했습니다. 변경 없음 %lld장, 이동 %lld장, 실패 %lld장 (%.1f초)\n",
                (long long)counts->tagged, (long long)counts->unchanged, (long long)counts->moved,
                (long long)counts->failed, seconds);
        return;
    }
    fprintf(stream, "Tagged %lld %s, %lld unchanged, %lld moved, %lld failed (%.1f s).\n",
            (long long)counts->tagged, photos_word(counts->tagged), (long long)counts->unchanged,
            (long long)counts->moved, (long long)counts->failed, seconds);
}

void message_print_watch_started(FILE *stream, picotag_language language, int64_t folders) {
    if (language == PICOTAG_LANGUAGE_KOREAN) {
        fprintf(stream, "폴더 %lld개를 지켜보고 있습니다. 멈추려면 Ctrl+C를 누르세요.\n",
                (long long)folders);
        return;
    }
    fprintf(stream, "Watching %lld %s; press Ctrl+C to stop.\n", (long long)folders,
            folders == 1 ? "folder" : "folders");
}

void message_print_watch_summary(FILE *stream, picotag_language language,
                                 const run_counts *counts) {
    if (language == PICOTAG_LANGUAGE_KOREAN) {
        fprintf(stream, "지켜보기를 마쳤습니다. 태그 %lld장, 이동 %lld장, 삭제 %lld장, 실패 %lld장\n",
                (long long)counts->tagged, (long long)counts->moved, (long long)counts->removed,
                (long long)counts->failed);
        return;
    }
    fprintf(stream, "Stopped watching: tagged %lld %s, %lld moved, %lld removed, %lld failed.\n",
            (long long)counts->tagged, photos_word(counts->tagged), (long long)counts->moved,
            (long long)counts->removed, (long long)counts->failed);
}
