/* XMP sidecars: naming, new sidecars, merging into sidecars that other
 * programs and people wrote, re-tagging, refusals, atomic replacement, and
 * an independent read-back with exiftool. */
#include <dirent.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "picotag_catalogue.h"
#include "test_harness.h"

static char *folder;

static void fresh_folder(void) {
    remove_scratch_folder(folder);
    folder = make_scratch_folder();
}

static const char *in_folder(const char *name) {
    static char paths[4][4096];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, 4096, "%s/%s", folder, name);
    return path;
}

static picotag_xmp_result write_keywords(const char *sidecar, const picotag_xmp_keyword *keywords,
                                         size_t count) {
    picotag_xmp_result result = (picotag_xmp_result)-1;
    picotag_error error;
    CHECK_OK(picotag_xmp_write_keywords(sidecar, keywords, count, &result, &error), error);
    return result;
}

/* ---- Reading sidecars back independently --------------------------------- */

/* Joins with ';' the texts of the nodes that the XPath expression `xpath`
 * selects in the sidecar. */
static const char *read_items(const char *sidecar, const char *xpath) {
    static char joined[2048];
    joined[0] = '\0';

    xmlDocPtr doc = xmlReadFile(sidecar, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
    if (doc == NULL) {
        snprintf(joined, sizeof(joined), "(unreadable)");
        return joined;
    }
    xmlXPathContextPtr context = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(context, (const xmlChar *)"rdf",
                       (const xmlChar *)"http://www.w3.org/1999/02/22-rdf-syntax-ns#");
    xmlXPathRegisterNs(context, (const xmlChar *)"dc",
                       (const xmlChar *)"http://purl.org/dc/elements/1.1/");
    xmlXPathRegisterNs(context, (const xmlChar *)"lr",
                       (const xmlChar *)"http://ns.adobe.com/lightroom/1.0/");
    xmlXPathRegisterNs(context, (const xmlChar *)"picotag",
                       (const xmlChar *)"http://ns.picotag.invalid/1.0/");

    xmlXPathObjectPtr found = xmlXPathEvalExpression((const xmlChar *)xpath, context);
    if (found != NULL && found->nodesetval != NULL) {
        for (int i = 0; i < found->nodesetval->nodeNr; i++) {
            xmlChar *text = xmlNodeGetContent(found->nodesetval->nodeTab[i]);
            size_t used = strlen(joined);
            snprintf(joined + used, sizeof(joined) - used, "%s%s", i > 0 ? ";" : "",
                     (const char *)text);
            xmlFree(text);
        }
    }
    xmlXPathFreeObject(found);
    xmlXPathFreeContext(context);
    xmlFreeDoc(doc);
    return joined;
}

static const char *subjects(const char *sidecar) {
    return read_items(sidecar, "//rdf:Description/dc:subject/*/rdf:li");
}

static const char *hierarchy(const char *sidecar) {
    return read_items(sidecar, "//rdf:Description/lr:hierarchicalSubject/*/rdf:li");
}

static const char *picotag_record(const char *sidecar) {
    return read_items(sidecar, "//rdf:Description/picotag:Keywords/*/rdf:li");
}

/* ---- exiftool ------------------------------------------------------------ */

static int exiftool_present(void) {
    const char *path = getenv("PATH");
    if (path == NULL) {
        return 0;
    }
    char *copy = strdup(path);
    int found = 0;
    char *rest = copy;
    for (char *dir = strsep(&rest, ":"); dir != NULL && !found; dir = strsep(&rest, ":")) {
        char candidate[4096];
        snprintf(candidate, sizeof(candidate), "%s/exiftool", dir[0] != '\0' ? dir : ".");
        found = access(candidate, X_OK) == 0;
    }
    free(copy);
    return found;
}

/* Runs exiftool with `arguments` (NULL-ended, starting with "exiftool") and
 * returns its standard output (free it), or NULL if it failed. */
static char *run_exiftool_command(const char *const *arguments) {
    int output[2];
    if (pipe(output) != 0) {
        return NULL;
    }
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) {
        dup2(output[1], STDOUT_FILENO);
        close(output[0]);
        close(output[1]);
        execvp("exiftool", (char *const *)arguments);
        _exit(127);
    }
    close(output[1]);
    size_t capacity = 8192;
    size_t used = 0;
    char *json = malloc(capacity);
    ssize_t got;
    while (json != NULL && (got = read(output[0], json + used, capacity - used - 1)) > 0) {
        used += (size_t)got;
        if (used + 1 == capacity) {
            capacity *= 2;
            json = realloc(json, capacity);
        }
    }
    close(output[0]);
    int status = 0;
    waitpid(child, &status, 0);
    if (json == NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(json);
        return NULL;
    }
    json[used] = '\0';
    return json;
}

/* Runs exiftool -j on `file` with the given tag arguments (NULL-ended) and
 * returns its JSON output (free it), or NULL if it failed. */
static char *run_exiftool(const char *file, const char *const *tags) {
    const char *arguments[16] = {"exiftool", "-j"};
    int count = 2;
    for (int i = 0; tags[i] != NULL && count < 14; i++) {
        arguments[count++] = tags[i];
    }
    arguments[count++] = file;
    arguments[count] = NULL;
    return run_exiftool_command(arguments);
}

/* Reads one JSON string at `p` (after its opening quote) into `out`;
 * returns the position after the closing quote. Handles the escapes that
 * exiftool writes for these values. */
static const char *read_json_string(const char *p, char *out, size_t capacity) {
    size_t used = 0;
    while (*p != '\0' && *p != '"') {
        char c = *p++;
        if (c == '\\' && *p != '\0') {
            c = *p++;
            if (c == 'n') {
                c = '\n';
            } else if (c == 't') {
                c = '\t';
            }
        }
        if (used + 1 < capacity) {
            out[used++] = c;
        }
    }
    out[used] = '\0';
    return *p == '"' ? p + 1 : p;
}

/* Joins the strings of `"key": "a"` or `"key": ["a", "b"]` with ';'. */
static const char *json_list(const char *json, const char *key) {
    static char joined[2048];
    joined[0] = '\0';
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "\"%s\":", key);
    const char *p = json != NULL ? strstr(json, pattern) : NULL;
    if (p == NULL) {
        return "(absent)";
    }
    p += strlen(pattern);
    while (*p == ' ') {
        p++;
    }
    int is_array = *p == '[';
    for (int first = 1; *p != '\0'; first = 0) {
        p = strchr(p, '"');
        if (p == NULL) {
            break;
        }
        char item[512];
        p = read_json_string(p + 1, item, sizeof(item));
        size_t used = strlen(joined);
        snprintf(joined + used, sizeof(joined) - used, "%s%s", first ? "" : ";", item);
        while (*p == ' ' || *p == '\n') {
            p++;
        }
        if (!is_array || *p != ',') {
            break;
        }
    }
    return joined;
}

/* ---- Naming -------------------------------------------------------------- */

static const char *sidecar_for(const char *photo, picotag_xmp_naming naming) {
    static char path[4096];
    picotag_error error;
    picotag_status status = picotag_xmp_sidecar_path(photo, naming, path, sizeof(path), &error);
    if (status != PICOTAG_OK) {
        snprintf(path, sizeof(path), "error: %s", error.message);
    }
    return path;
}

static void sidecar_name_appends_or_replaces_extension(void) {
    CHECK_STR("/photos/IMG_0001.JPG.xmp",
              sidecar_for("/photos/IMG_0001.JPG", PICOTAG_XMP_APPEND_EXTENSION));
    CHECK_STR("/photos/IMG_0001.xmp",
              sidecar_for("/photos/IMG_0001.JPG", PICOTAG_XMP_REPLACE_EXTENSION));
    CHECK_STR("/photos/archive.tar.xmp",
              sidecar_for("/photos/archive.tar.gz", PICOTAG_XMP_REPLACE_EXTENSION));
    CHECK_STR("/photos/.hidden.xmp",
              sidecar_for("/photos/.hidden", PICOTAG_XMP_REPLACE_EXTENSION));
    CHECK_STR("/photos.2024/scan.xmp",
              sidecar_for("/photos.2024/scan", PICOTAG_XMP_REPLACE_EXTENSION));
}

static void sidecar_name_rejects_xmp_photo_and_short_buffer(void) {
    CHECK_CONTAINS(sidecar_for("/photos/notes.XMP", PICOTAG_XMP_APPEND_EXTENSION),
                   "itself an XMP file");
    char small[8];
    picotag_error error;
    picotag_status status = picotag_xmp_sidecar_path("/photos/IMG_0001.JPG",
                                                     PICOTAG_XMP_APPEND_EXTENSION, small,
                                                     sizeof(small), &error);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, status, error);
    CHECK_CONTAINS(error.message, "bytes");
}

/* ---- New sidecars -------------------------------------------------------- */

static const picotag_xmp_keyword dog_and_person[] = {{"dog", "animal"}, {"person", "person"}};

static void new_sidecar_has_keywords_and_namespaces(void) {
    fresh_folder();
    const char *sidecar = in_folder("IMG_0001.jpg.xmp");
    CHECK_INT(PICOTAG_XMP_CREATED, write_keywords(sidecar, dog_and_person, 2));

    CHECK_STR("dog;person", subjects(sidecar));
    CHECK_STR("picotag|animal|dog;picotag|person", hierarchy(sidecar));
    CHECK_STR("dog;person", picotag_record(sidecar));

    char *text = read_text_file(sidecar);
    CHECK_CONTAINS(text, "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"");
    CHECK_CONTAINS(text, "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"");
    CHECK_CONTAINS(text, "xmlns:lr=\"http://ns.adobe.com/lightroom/1.0/\"");
    CHECK_CONTAINS(text, "<rdf:Bag>");
    free(text);
}

static void same_keywords_leave_sidecar_untouched(void) {
    fresh_folder();
    const char *sidecar = in_folder("IMG_0002.jpg.xmp");
    write_keywords(sidecar, dog_and_person, 2);
    struct stat before;
    CHECK(stat(sidecar, &before) == 0);

    /* The same tags in another order are the same keywords. */
    picotag_xmp_keyword reordered[] = {{"person", NULL}, {"dog", "animal"}};
    CHECK_INT(PICOTAG_XMP_UNCHANGED, write_keywords(sidecar, reordered, 2));
    struct stat after;
    CHECK(stat(sidecar, &after) == 0);
    CHECK_INT(before.st_ino, after.st_ino);
    CHECK_INT(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
}

static void no_keywords_and_no_sidecar_creates_nothing(void) {
    fresh_folder();
    const char *sidecar = in_folder("IMG_0003.jpg.xmp");
    CHECK_INT(PICOTAG_XMP_UNCHANGED, write_keywords(sidecar, NULL, 0));
    CHECK(access(sidecar, F_OK) != 0);
}

/* ---- Merging ------------------------------------------------------------- */

/* A sidecar as a photo manager leaves it: packet wrapper, a comment, simple
 * properties as attributes, a language alternative, user keywords. */
static const char user_sidecar[] =
    "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"Image::ExifTool 12.57\">\n"
    "<!-- written by hand for a test -->\n"
    "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
    " <rdf:Description rdf:about=\"\"\n"
    "  xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n"
    "  xmlns:d=\"http://purl.org/dc/elements/1.1/\"\n"
    "  xmlns:lr=\"http://ns.adobe.com/lightroom/1.0/\"\n"
    "  xmp:Rating=\"3\">\n"
    "  <d:title>\n"
    "   <rdf:Alt>\n"
    "    <rdf:li xml:lang=\"x-default\">Haeundae at dusk</rdf:li>\n"
    "   </rdf:Alt>\n"
    "  </d:title>\n"
    "  <d:subject>\n"
    "   <rdf:Bag>\n"
    "    <rdf:li>holiday</rdf:li>\n"
    "    <rdf:li>beach</rdf:li>\n"
    "   </rdf:Bag>\n"
    "  </d:subject>\n"
    "  <lr:hierarchicalSubject>\n"
    "   <rdf:Bag>\n"
    "    <rdf:li>Places|Busan</rdf:li>\n"
    "   </rdf:Bag>\n"
    "  </lr:hierarchicalSubject>\n"
    " </rdf:Description>\n"
    "</rdf:RDF>\n"
    "</x:xmpmeta>\n"
    "<?xpacket end=\"w\"?>\n";

static void merge_keeps_user_keywords_and_properties(void) {
    fresh_folder();
    const char *sidecar = in_folder("busan.jpg.xmp");
    CHECK(write_text_file(sidecar, user_sidecar));

    picotag_xmp_keyword dog[] = {{"dog", "animal"}};
    CHECK_INT(PICOTAG_XMP_UPDATED, write_keywords(sidecar, dog, 1));

    CHECK_STR("holiday;beach;dog", subjects(sidecar));
    CHECK_STR("Places|Busan;picotag|animal|dog", hierarchy(sidecar));
    CHECK_STR("Haeundae at dusk", read_items(sidecar, "//dc:title/rdf:Alt/rdf:li"));
    char *text = read_text_file(sidecar);
    CHECK_CONTAINS(text, "xmp:Rating=\"3\"");
    CHECK_CONTAINS(text, "<!-- written by hand for a test -->");
    CHECK_CONTAINS(text, "<?xpacket begin=");
    CHECK_CONTAINS(text, "<?xpacket end=\"w\"?>");
    /* The user's prefix for Dublin Core is kept; no second declaration. */
    CHECK_CONTAINS(text, "<d:subject>");
    CHECK_NOT_CONTAINS(text, "xmlns:dc=");
    free(text);
}

static void retag_replaces_only_picotag_keywords(void) {
    fresh_folder();
    const char *sidecar = in_folder("busan.jpg.xmp");
    CHECK(write_text_file(sidecar, user_sidecar));
    picotag_xmp_keyword first[] = {{"dog", "animal"}, {"cat", "animal"}};
    write_keywords(sidecar, first, 2);

    picotag_xmp_keyword second[] = {{"cat", "animal"}, {"person", "person"}};
    CHECK_INT(PICOTAG_XMP_UPDATED, write_keywords(sidecar, second, 2));
    CHECK_STR("holiday;beach;cat;person", subjects(sidecar));
    CHECK_STR("Places|Busan;picotag|animal|cat;picotag|person", hierarchy(sidecar));
    CHECK_STR("cat;person", picotag_record(sidecar));

    /* No tags any more: the sidecar is back to the user's keywords. */
    CHECK_INT(PICOTAG_XMP_UPDATED, write_keywords(sidecar, NULL, 0));
    CHECK_STR("holiday;beach", subjects(sidecar));
    CHECK_STR("Places|Busan", hierarchy(sidecar));
    char *text = read_text_file(sidecar);
    CHECK_NOT_CONTAINS(text, "picotag:Keywords");
    CHECK_NOT_CONTAINS(text, "picotag|");
    CHECK_CONTAINS(text, "xmp:Rating=\"3\"");
    free(text);
}

static void user_keyword_equal_to_tag_survives_retag(void) {
    fresh_folder();
    const char *sidecar = in_folder("walk.jpg.xmp");
    CHECK(write_text_file(sidecar,
                          "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">"
                          "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
                          "<rdf:Description rdf:about=\"\" "
                          "xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
                          "<dc:subject><rdf:Bag><rdf:li>dog</rdf:li></rdf:Bag></dc:subject>"
                          "</rdf:Description></rdf:RDF></x:xmpmeta>"));
    picotag_xmp_keyword dog[] = {{"dog", "animal"}};
    CHECK_INT(PICOTAG_XMP_UPDATED, write_keywords(sidecar, dog, 1));
    CHECK_STR("dog", subjects(sidecar));
    CHECK_STR("", picotag_record(sidecar));

    picotag_xmp_keyword cat[] = {{"cat", "animal"}};
    CHECK_INT(PICOTAG_XMP_UPDATED, write_keywords(sidecar, cat, 1));
    CHECK_STR("dog;cat", subjects(sidecar));
    CHECK_STR("picotag|animal|cat", hierarchy(sidecar));
}

static void user_hierarchy_protects_flat_keyword(void) {
    fresh_folder();
    const char *sidecar = in_folder("sofa.jpg.xmp");
    CHECK(write_text_file(sidecar,
                          "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">"
                          "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
                          "<rdf:Description rdf:about=\"\" "
                          "xmlns:lr=\"http://ns.adobe.com/lightroom/1.0/\">"
                          "<lr:hierarchicalSubject><rdf:Bag><rdf:li>Pets|cat</rdf:li></rdf:Bag>"
                          "</lr:hierarchicalSubject>"
                          "</rdf:Description></rdf:RDF></x:xmpmeta>"));
    picotag_xmp_keyword cat[] = {{"cat", "animal"}};
    write_keywords(sidecar, cat, 1);
    CHECK_STR("cat", subjects(sidecar));

    CHECK_INT(PICOTAG_XMP_UPDATED, write_keywords(sidecar, NULL, 0));
    CHECK_STR("cat", subjects(sidecar));
    CHECK_STR("Pets|cat", hierarchy(sidecar));
}

static void picotag_keywords_found_without_record(void) {
    fresh_folder();
    const char *sidecar = in_folder("jeju.jpg.xmp");
    /* As if another program dropped picotag:Keywords but kept the rest. */
    CHECK(write_text_file(
        sidecar, "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
                 "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
                 "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
                 "  xmlns:lr=\"http://ns.adobe.com/lightroom/1.0/\">\n"
                 "<dc:subject><rdf:Bag><rdf:li>dog</rdf:li><rdf:li>Jeju</rdf:li>"
                 "<rdf:li>beach</rdf:li></rdf:Bag></dc:subject>\n"
                 "<lr:hierarchicalSubject><rdf:Bag><rdf:li>picotag|animal|dog</rdf:li>"
                 "<rdf:li>Trips|Jeju</rdf:li></rdf:Bag></lr:hierarchicalSubject>\n"
                 "</rdf:Description></rdf:RDF></x:xmpmeta>\n"));
    picotag_xmp_keyword cat[] = {{"cat", "animal"}};
    CHECK_INT(PICOTAG_XMP_UPDATED, write_keywords(sidecar, cat, 1));
    CHECK_STR("Jeju;beach;cat", subjects(sidecar));
    CHECK_STR("Trips|Jeju;picotag|animal|cat", hierarchy(sidecar));
}

static void prefix_bound_elsewhere_gets_another(void) {
    fresh_folder();
    const char *sidecar = in_folder("mood.jpg.xmp");
    CHECK(write_text_file(sidecar,
                          "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
                          "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
                          " <rdf:Description rdf:about=\"\" "
                          "xmlns:lr=\"http://example.com/not-lightroom/\" lr:Mood=\"calm\"/>\n"
                          "</rdf:RDF></x:xmpmeta>\n"));
    CHECK_INT(PICOTAG_XMP_UPDATED, write_keywords(sidecar, dog_and_person, 2));
    CHECK_STR("picotag|animal|dog;picotag|person", hierarchy(sidecar));
    char *text = read_text_file(sidecar);
    CHECK_CONTAINS(text, "lr:Mood=\"calm\"");
    CHECK_CONTAINS(text, "xmlns:lr1=\"http://ns.adobe.com/lightroom/1.0/\"");
    free(text);
}

/* ---- Refusals ------------------------------------------------------------ */

typedef struct refusal_case {
    const char *name;
    const char *content;
    picotag_status status;
    const char *problem;
} refusal_case;

static const refusal_case refusal_cases[] = {
    {"malformed", "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF", PICOTAG_ERROR_FORMAT,
     "not well-formed XML at line 1"},
    {"empty", "", PICOTAG_ERROR_FORMAT, "not well-formed XML"},
    {"not xmp", "<?xml version=\"1.0\"?><notes>my own file</notes>", PICOTAG_ERROR_FORMAT,
     "no rdf:RDF element"},
    {"doctype",
     "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"boom\">]>"
     "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"/>",
     PICOTAG_ERROR_UNSUPPORTED, "DOCTYPE"},
    {"attribute",
     "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
     "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
     "dc:subject=\"holiday\"/></rdf:RDF>",
     PICOTAG_ERROR_UNSUPPORTED, "dc:subject is written as an attribute"},
    {"alt",
     "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
     "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
     "<dc:subject><rdf:Alt><rdf:li>holiday</rdf:li></rdf:Alt></dc:subject>"
     "</rdf:Description></rdf:RDF>",
     PICOTAG_ERROR_UNSUPPORTED, "dc:subject is an rdf:Alt"},
    {"twice",
     "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
     "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
     "<dc:subject><rdf:Bag><rdf:li>a</rdf:li></rdf:Bag></dc:subject></rdf:Description>"
     "<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
     "<dc:subject><rdf:Bag><rdf:li>b</rdf:li></rdf:Bag></dc:subject></rdf:Description>"
     "</rdf:RDF>",
     PICOTAG_ERROR_UNSUPPORTED, "dc:subject appears more than once"},
    {"text value",
     "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
     "<rdf:Description rdf:about=\"\" xmlns:lr=\"http://ns.adobe.com/lightroom/1.0/\">"
     "<lr:hierarchicalSubject>Places|Seoul</lr:hierarchicalSubject>"
     "</rdf:Description></rdf:RDF>",
     PICOTAG_ERROR_UNSUPPORTED, "lr:hierarchicalSubject is not a single rdf:Bag"},
};

/* Counts the entries of the scratch folder other than "." and "..". */
static int count_folder_entries(void) {
    DIR *dir = opendir(folder);
    int count = 0;
    struct dirent *entry;
    while (dir != NULL && (entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) {
            count++;
        }
    }
    if (dir != NULL) {
        closedir(dir);
    }
    return count;
}

static void unmergeable_sidecars_are_left_untouched(void) {
    for (size_t i = 0; i < sizeof(refusal_cases) / sizeof(refusal_cases[0]); i++) {
        const refusal_case *c = &refusal_cases[i];
        fresh_folder();
        const char *sidecar = in_folder("photo.jpg.xmp");
        CHECK(write_text_file(sidecar, c->content));

        picotag_error error;
        picotag_xmp_result result = PICOTAG_XMP_UPDATED;
        picotag_status status = picotag_xmp_write_keywords(sidecar, dog_and_person, 2, &result,
                                                           &error);
        if (status != c->status) {
            fprintf(stderr, "    case \"%s\":\n", c->name);
        }
        CHECK_STATUS(c->status, status, error);
        CHECK_CONTAINS(error.message, sidecar);
        CHECK_CONTAINS(error.message, c->problem);
        CHECK_CONTAINS(error.message, "not changed");
        CHECK_INT(PICOTAG_XMP_UNCHANGED, result);

        char *after = read_text_file(sidecar);
        CHECK_STR(c->content, after);
        free(after);
        CHECK_INT(1, count_folder_entries());
    }
}

static void symlink_sidecar_is_refused(void) {
    fresh_folder();
    const char *target = in_folder("real.xmp");
    const char *sidecar = in_folder("photo.jpg.xmp");
    write_keywords(target, dog_and_person, 2);
    CHECK(symlink(target, sidecar) == 0);

    picotag_error error;
    picotag_xmp_keyword cat[] = {{"cat", "animal"}};
    picotag_status status = picotag_xmp_write_keywords(sidecar, cat, 1, NULL, &error);
    CHECK_STATUS(PICOTAG_ERROR_UNSUPPORTED, status, error);
    CHECK_CONTAINS(error.message, "symbolic link");
    struct stat info;
    CHECK(lstat(sidecar, &info) == 0);
    CHECK(S_ISLNK(info.st_mode));
    CHECK_STR("dog;person", subjects(target));
}

/* ---- The photo and the file system --------------------------------------- */

static void photo_itself_is_never_written(void) {
    fresh_folder();
    const char *photo = in_folder("IMG_0100.jpg");
    CHECK(write_text_file(photo, "\xff\xd8\xff\xe0 pretend JPEG bytes"));
    struct stat before;
    CHECK(stat(photo, &before) == 0);

    picotag_error error;
    picotag_status status = picotag_xmp_write_keywords(photo, dog_and_person, 2, NULL, &error);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, status, error);
    CHECK_CONTAINS(error.message, "must end in .xmp");

    char sidecar[4096];
    CHECK_OK(picotag_xmp_sidecar_path(photo, PICOTAG_XMP_APPEND_EXTENSION, sidecar,
                                      sizeof(sidecar), &error),
             error);
    write_keywords(sidecar, dog_and_person, 2);

    struct stat after;
    CHECK(stat(photo, &after) == 0);
    CHECK_INT(before.st_size, after.st_size);
    CHECK_INT(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
    CHECK_INT(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
    char *bytes = read_text_file(photo);
    CHECK_STR("\xff\xd8\xff\xe0 pretend JPEG bytes", bytes);
    free(bytes);
}

static void writes_leave_no_temporary_files(void) {
    fresh_folder();
    const char *sidecar = in_folder("IMG_0200.jpg.xmp");
    picotag_xmp_keyword cat[] = {{"cat", "animal"}};
    write_keywords(sidecar, dog_and_person, 2);
    write_keywords(sidecar, cat, 1);
    write_keywords(sidecar, NULL, 0);
    CHECK_INT(1, count_folder_entries());
}

static void replaced_sidecar_keeps_mode(void) {
    fresh_folder();
    const char *sidecar = in_folder("IMG_0300.jpg.xmp");
    write_keywords(sidecar, dog_and_person, 2);
    CHECK(chmod(sidecar, 0640) == 0);
    picotag_xmp_keyword cat[] = {{"cat", "animal"}};
    CHECK_INT(PICOTAG_XMP_UPDATED, write_keywords(sidecar, cat, 1));
    struct stat info;
    CHECK(stat(sidecar, &info) == 0);
    CHECK_INT(0640, info.st_mode & 07777);
}

static void keywords_with_bar_or_bad_text_are_rejected(void) {
    fresh_folder();
    const char *sidecar = in_folder("bad.jpg.xmp");
    picotag_xmp_keyword bar[] = {{"dog|cat", "animal"}};
    picotag_error error;
    picotag_status status = picotag_xmp_write_keywords(sidecar, bar, 1, NULL, &error);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, status, error);
    CHECK_CONTAINS(error.message, "'|'");

    picotag_xmp_keyword invalid[] = {{"\xc3\x28", NULL}};
    status = picotag_xmp_write_keywords(sidecar, invalid, 1, NULL, &error);
    CHECK_STATUS(PICOTAG_ERROR_INVALID_ARGUMENT, status, error);
    CHECK(access(sidecar, F_OK) != 0);
}

/* ---- Read-back with exiftool --------------------------------------------- */

static const char *const keyword_tags[] = {"-XMP-dc:Subject", "-XMP-lr:HierarchicalSubject",
                                           NULL};

static int exiftool_available(void) {
    if (exiftool_present()) {
        return 1;
    }
    harness_skip("exiftool is not installed (Debian package libimage-exiftool-perl); the "
                 "independent read-back was not run");
    return 0;
}

static void exiftool_reads_new_sidecar(void) {
    if (!exiftool_available()) {
        return;
    }
    fresh_folder();
    const char *sidecar = in_folder("IMG_0001.jpg.xmp");
    write_keywords(sidecar, dog_and_person, 2);
    char *json = run_exiftool(sidecar, keyword_tags);
    CHECK(json != NULL);
    CHECK_STR("dog;person", json_list(json, "Subject"));
    CHECK_STR("picotag|animal|dog;picotag|person", json_list(json, "HierarchicalSubject"));
    free(json);
}

static void exiftool_reads_merged_sidecar(void) {
    if (!exiftool_available()) {
        return;
    }
    fresh_folder();
    const char *sidecar = in_folder("busan.jpg.xmp");
    CHECK(write_text_file(sidecar, user_sidecar));
    picotag_xmp_keyword tags[] = {{"dog", "animal"}, {"person", NULL}};
    write_keywords(sidecar, tags, 2);

    const char *const all_tags[] = {"-XMP-dc:Subject", "-XMP-lr:HierarchicalSubject",
                                    "-XMP-xmp:Rating", "-XMP-dc:Title", "-Warning", NULL};
    char *json = run_exiftool(sidecar, all_tags);
    CHECK(json != NULL);
    CHECK_STR("holiday;beach;dog;person", json_list(json, "Subject"));
    CHECK_STR("Places|Busan;picotag|animal|dog;picotag|person",
              json_list(json, "HierarchicalSubject"));
    CHECK_STR("Haeundae at dusk", json_list(json, "Title"));
    CHECK_CONTAINS(json, "\"Rating\": 3");
    CHECK_NOT_CONTAINS(json, "\"Warning\"");
    free(json);
}

static void exiftool_written_sidecar_is_merged(void) {
    if (!exiftool_available()) {
        return;
    }
    fresh_folder();
    const char *sidecar = in_folder("seoul.jpg.xmp");
    const char *const create[] = {"exiftool",
                                  "-q",
                                  "-o",
                                  sidecar,
                                  "-XMP-dc:Subject=holiday",
                                  "-XMP-lr:HierarchicalSubject=Places|Seoul",
                                  "-XMP-xmp:Rating=4",
                                  NULL};
    char *created = run_exiftool_command(create);
    CHECK(created != NULL);
    free(created);

    picotag_xmp_keyword dog[] = {{"dog", "animal"}};
    CHECK_INT(PICOTAG_XMP_UPDATED, write_keywords(sidecar, dog, 1));
    const char *const all_tags[] = {"-XMP-dc:Subject", "-XMP-lr:HierarchicalSubject",
                                    "-XMP-xmp:Rating", "-Warning", NULL};
    char *json = run_exiftool(sidecar, all_tags);
    CHECK_STR("holiday;dog", json_list(json, "Subject"));
    CHECK_STR("Places|Seoul;picotag|animal|dog", json_list(json, "HierarchicalSubject"));
    CHECK_CONTAINS(json, "\"Rating\": 4");
    CHECK_NOT_CONTAINS(json, "\"Warning\"");
    free(json);

    /* Re-tagging with nothing gives back exactly exiftool's keywords. */
    CHECK_INT(PICOTAG_XMP_UPDATED, write_keywords(sidecar, NULL, 0));
    json = run_exiftool(sidecar, all_tags);
    CHECK_STR("holiday", json_list(json, "Subject"));
    CHECK_STR("Places|Seoul", json_list(json, "HierarchicalSubject"));
    free(json);
}

static void exiftool_reads_korean_keywords(void) {
    if (!exiftool_available()) {
        return;
    }
    fresh_folder();
    const char *sidecar = in_folder("IMG_0400.jpg.xmp");
    picotag_xmp_keyword korean[] = {{"개", "동물"}, {"사람", "사람"}, {"핫도그", "음식"}};
    write_keywords(sidecar, korean, 3);
    char *json = run_exiftool(sidecar, keyword_tags);
    CHECK_STR("개;사람;핫도그", json_list(json, "Subject"));
    CHECK_STR("picotag|동물|개;picotag|사람;picotag|음식|핫도그",
              json_list(json, "HierarchicalSubject"));
    free(json);
}

static void exiftool_reads_escaped_characters(void) {
    if (!exiftool_available()) {
        return;
    }
    fresh_folder();
    const char *sidecar = in_folder("IMG_0500.jpg.xmp");
    picotag_xmp_keyword odd[] = {{"fish & chips <fried>", "food \"hot\""}};
    write_keywords(sidecar, odd, 1);
    CHECK_STR("fish & chips <fried>", subjects(sidecar));
    char *json = run_exiftool(sidecar, keyword_tags);
    CHECK_STR("fish & chips <fried>", json_list(json, "Subject"));
    CHECK_STR("picotag|food \"hot\"|fish & chips <fried>", json_list(json, "HierarchicalSubject"));
    free(json);
}

int main(void) {
    RUN_TEST(sidecar_name_appends_or_replaces_extension);
    RUN_TEST(sidecar_name_rejects_xmp_photo_and_short_buffer);
    RUN_TEST(new_sidecar_has_keywords_and_namespaces);
    RUN_TEST(same_keywords_leave_sidecar_untouched);
    RUN_TEST(no_keywords_and_no_sidecar_creates_nothing);
    RUN_TEST(merge_keeps_user_keywords_and_properties);
    RUN_TEST(retag_replaces_only_picotag_keywords);
    RUN_TEST(user_keyword_equal_to_tag_survives_retag);
    RUN_TEST(user_hierarchy_protects_flat_keyword);
    RUN_TEST(picotag_keywords_found_without_record);
    RUN_TEST(prefix_bound_elsewhere_gets_another);
    RUN_TEST(unmergeable_sidecars_are_left_untouched);
    RUN_TEST(symlink_sidecar_is_refused);
    RUN_TEST(photo_itself_is_never_written);
    RUN_TEST(writes_leave_no_temporary_files);
    RUN_TEST(replaced_sidecar_keeps_mode);
    RUN_TEST(keywords_with_bar_or_bad_text_are_rejected);
    RUN_TEST(exiftool_reads_new_sidecar);
    RUN_TEST(exiftool_reads_merged_sidecar);
    RUN_TEST(exiftool_written_sidecar_is_merged);
    RUN_TEST(exiftool_reads_korean_keywords);
    RUN_TEST(exiftool_reads_escaped_characters);
    remove_scratch_folder(folder);
    xmlCleanupParser();
    return harness_finish();
}
