/*
 * Merging picotag's keywords into an XMP document with libxml2.
 *
 * picotag writes three properties, each an rdf:Bag of rdf:li:
 *   dc:subject                flat keywords ("dog"), shared with the user;
 *   lr:hierarchicalSubject    "picotag|animal|dog": every entry under
 *                             "picotag|" is picotag's and nothing else is;
 *   picotag:Keywords          the dc:subject keywords picotag added (maybe
 *                             none), so that a later run removes exactly those.
 * A flat keyword that the user also has in a hierarchy of their own (any
 * component of a non-picotag lr:hierarchicalSubject entry) always stays.
 * When picotag:Keywords is missing (another program dropped it), picotag's
 * flat keywords are taken to be the leaves of its hierarchical entries.
 *
 * Everything else in the document is kept as parsed: other properties,
 * comments, processing instructions (the xpacket wrapper), rdf:li elements
 * that are not plain text. Namespaces are matched by URI, never by prefix.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue/xmp_internal.h"
#include "engine/error.h"

#define NS_RDF "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_DC "http://purl.org/dc/elements/1.1/"
#define NS_LR "http://ns.adobe.com/lightroom/1.0/"

static const char new_document[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"picotag\">\n"
    " <rdf:RDF xmlns:rdf=\"" NS_RDF "\">\n"
    "  <rdf:Description rdf:about=\"\"/>\n"
    " </rdf:RDF>\n"
    "</x:xmpmeta>\n";

/* ---- String lists -------------------------------------------------------- */

typedef struct string_list {
    char **items;
    size_t count;
    size_t capacity;
} string_list;

static int list_contains(const string_list *list, const char *text) {
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i], text) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Appends a copy of `text`; returns 0 when out of memory. */
static int list_add(string_list *list, const char *text) {
    if (list->count == list->capacity) {
        size_t capacity = list->capacity == 0 ? 8 : list->capacity * 2;
        char **items = realloc(list->items, capacity * sizeof(*items));
        if (items == NULL) {
            return 0;
        }
        list->items = items;
        list->capacity = capacity;
    }
    char *copy = strdup(text);
    if (copy == NULL) {
        return 0;
    }
    list->items[list->count++] = copy;
    return 1;
}

static int list_add_unique(string_list *list, const char *text) {
    return list_contains(list, text) || list_add(list, text);
}

static void list_free(string_list *list) {
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i]);
    }
    free(list->items);
    memset(list, 0, sizeof(*list));
}

static int same_members(const string_list *a, const string_list *b) {
    for (size_t i = 0; i < a->count; i++) {
        if (!list_contains(b, a->items[i])) {
            return 0;
        }
    }
    for (size_t i = 0; i < b->count; i++) {
        if (!list_contains(a, b->items[i])) {
            return 0;
        }
    }
    return 1;
}

/* ---- Document state ------------------------------------------------------ */

typedef struct xmp_property {
    const char *namespace_uri;
    const char *local_name;
    const char *prefix;        /* preferred prefix for a new declaration */
    const char *display_name;  /* for messages */
    xmlNodePtr element;        /* NULL when absent */
    xmlNodePtr container;      /* its rdf:Bag or rdf:Seq */
    int had_items;
} xmp_property;

typedef struct merge_state {
    xmlDocPtr doc;
    const char *name;
    xmlNodePtr rdf;
    xmlNodePtr description;    /* where new properties go */
    xmp_property subject;
    xmp_property hierarchy;
    xmp_property record;
    int changed;
    picotag_error *error;
    picotag_status status;
} merge_state;

static picotag_status fail(merge_state *state, picotag_status status, const char *problem) {
    if (state->status == PICOTAG_OK) {
        state->status = picotag_error_set(state->error, status,
                                          "sidecar %s: %s; the sidecar was not changed",
                                          state->name, problem);
    }
    return state->status;
}

static picotag_status fail_property(merge_state *state, picotag_status status,
                                    const xmp_property *property, const char *problem) {
    if (state->status == PICOTAG_OK) {
        state->status = picotag_error_set(
            state->error, status, "sidecar %s: %s %s, which picotag cannot merge safely; the "
                                  "sidecar was not changed",
            state->name, property->display_name, problem);
    }
    return state->status;
}

static picotag_status out_of_memory(merge_state *state) {
    return fail(state, PICOTAG_ERROR_OUT_OF_MEMORY, "out of memory merging keywords");
}

static int is_element(xmlNodePtr node, const char *namespace_uri, const char *local_name) {
    return node != NULL && node->type == XML_ELEMENT_NODE && node->ns != NULL &&
           node->ns->href != NULL && strcmp((const char *)node->ns->href, namespace_uri) == 0 &&
           strcmp((const char *)node->name, local_name) == 0;
}

static int is_blank_text(xmlNodePtr node) {
    return node->type == XML_TEXT_NODE && xmlIsBlankNode(node);
}

/* ---- Whitespace ---------------------------------------------------------- */

/* The indentation of `node`: the spaces after the last newline of the blank
 * text just before it, or "" when there is none. */
static const char *indentation_of(xmlNodePtr node) {
    xmlNodePtr before = node != NULL ? node->prev : NULL;
    if (before == NULL || !is_blank_text(before) || before->content == NULL) {
        return "";
    }
    const char *text = (const char *)before->content;
    const char *newline = strrchr(text, '\n');
    return newline != NULL ? newline + 1 : "";
}

static xmlNodePtr new_blank(xmlDocPtr doc, const char *indentation) {
    size_t length = strlen(indentation);
    char *text = malloc(length + 2);
    if (text == NULL) {
        return NULL;
    }
    text[0] = '\n';
    memcpy(text + 1, indentation, length + 1);
    xmlNodePtr blank = xmlNewDocText(doc, (const xmlChar *)text);
    free(text);
    return blank;
}

/* Appends `child` to `parent` on its own line, one space deeper than the
 * parent, as exiftool (12.57) lays documents out. libxml2
 * merges a text node added next to another text node into it, so the child
 * goes in first and its line break is then added just before it. */
static int append_indented(xmlNodePtr parent, xmlNodePtr child) {
    const char *parent_indentation = indentation_of(parent);
    size_t length = strlen(parent_indentation);
    char *indentation = malloc(length + 2);
    if (indentation == NULL) {
        return 0;
    }
    memcpy(indentation, parent_indentation, length);
    indentation[length] = ' ';
    indentation[length + 1] = '\0';

    int ok = 0;
    xmlNodePtr closing = parent->last;
    if (closing != NULL && is_blank_text(closing)) {
        ok = xmlAddPrevSibling(closing, child) != NULL;
    } else {
        xmlNodePtr closing_blank = new_blank(parent->doc, parent_indentation);
        ok = closing_blank != NULL && xmlAddChild(parent, child) != NULL &&
             xmlAddChild(parent, closing_blank) != NULL;
    }
    xmlNodePtr line_break = ok ? new_blank(parent->doc, indentation) : NULL;
    ok = line_break != NULL && xmlAddPrevSibling(child, line_break) != NULL;
    free(indentation);
    return ok;
}

/* Unlinks and frees `node` with the line break and indentation before it. */
static void remove_indented(xmlNodePtr node) {
    xmlNodePtr before = node->prev;
    if (before != NULL && is_blank_text(before)) {
        xmlUnlinkNode(before);
        xmlFreeNode(before);
    }
    xmlUnlinkNode(node);
    xmlFreeNode(node);
}

/* ---- Finding the properties ---------------------------------------------- */

static void find_rdf(xmlNodePtr node, xmlNodePtr *found, int *count) {
    for (; node != NULL; node = node->next) {
        if (node->type != XML_ELEMENT_NODE) {
            continue;
        }
        if (is_element(node, NS_RDF, "RDF")) {
            *found = node;
            (*count)++;
            continue;
        }
        find_rdf(node->children, found, count);
    }
}

/* The plain text of an rdf:li, or NULL (free with xmlFree) when it has
 * element children: such an item is kept untouched and never compared. */
static xmlChar *plain_item_text(xmlNodePtr item) {
    for (xmlNodePtr child = item->children; child != NULL; child = child->next) {
        if (child->type != XML_TEXT_NODE && child->type != XML_CDATA_SECTION_NODE) {
            return NULL;
        }
    }
    xmlChar *text = xmlNodeGetContent(item);
    return text != NULL ? text : xmlStrdup((const xmlChar *)"");
}

/* Checks that a property element contains one rdf:Bag or rdf:Seq and
 * nothing but blank text and comments beside it. */
static picotag_status check_array(merge_state *state, xmp_property *property) {
    xmlNodePtr element = property->element;
    for (xmlAttrPtr attribute = element->properties; attribute != NULL;
         attribute = attribute->next) {
        if (attribute->ns != NULL && strcmp((const char *)attribute->ns->href, NS_RDF) == 0) {
            return fail_property(state, PICOTAG_ERROR_UNSUPPORTED, property,
                                 "has an rdf: attribute instead of an rdf:Bag");
        }
    }

    for (xmlNodePtr child = element->children; child != NULL; child = child->next) {
        if (is_blank_text(child) || child->type == XML_COMMENT_NODE) {
            continue;
        }
        int is_array = is_element(child, NS_RDF, "Bag") || is_element(child, NS_RDF, "Seq");
        if (is_array && property->container == NULL) {
            property->container = child;
            continue;
        }
        if (is_element(child, NS_RDF, "Alt")) {
            return fail_property(state, PICOTAG_ERROR_UNSUPPORTED, property,
                                 "is an rdf:Alt, not an rdf:Bag");
        }
        return fail_property(state, PICOTAG_ERROR_UNSUPPORTED, property,
                             "is not a single rdf:Bag of rdf:li items");
    }
    if (property->container == NULL) {
        return fail_property(state, PICOTAG_ERROR_UNSUPPORTED, property,
                             "has no rdf:Bag");
    }
    return PICOTAG_OK;
}

static picotag_status find_property(merge_state *state, xmp_property *property) {
    for (xmlNodePtr description = state->rdf->children; description != NULL;
         description = description->next) {
        if (!is_element(description, NS_RDF, "Description")) {
            continue;
        }
        if (xmlHasNsProp(description, (const xmlChar *)property->local_name,
                         (const xmlChar *)property->namespace_uri) != NULL) {
            return fail_property(state, PICOTAG_ERROR_UNSUPPORTED, property,
                                 "is written as an attribute, not as an rdf:Bag");
        }
        for (xmlNodePtr child = description->children; child != NULL; child = child->next) {
            if (!is_element(child, property->namespace_uri, property->local_name)) {
                continue;
            }
            if (property->element != NULL) {
                return fail_property(state, PICOTAG_ERROR_UNSUPPORTED, property,
                                     "appears more than once");
            }
            property->element = child;
        }
    }
    if (property->element == NULL) {
        return PICOTAG_OK;
    }
    return check_array(state, property);
}

/* Reads the plain-text items of a property into `items`. */
static picotag_status read_items(merge_state *state, xmp_property *property,
                                 string_list *items) {
    if (property->container == NULL) {
        return PICOTAG_OK;
    }
    for (xmlNodePtr item = property->container->children; item != NULL; item = item->next) {
        if (!is_element(item, NS_RDF, "li")) {
            continue;
        }
        property->had_items = 1;
        xmlChar *text = plain_item_text(item);
        if (text == NULL) {
            continue;
        }
        int ok = list_add(items, (const char *)text);
        xmlFree(text);
        if (!ok) {
            return out_of_memory(state);
        }
    }
    return PICOTAG_OK;
}

/* ---- Changing the properties --------------------------------------------- */

/* Returns a namespace for `uri` in scope at the description, declaring it
 * there when needed, under a prefix that is not bound to another URI. */
static xmlNsPtr namespace_for(merge_state *state, const char *uri, const char *prefix) {
    xmlNsPtr found = xmlSearchNsByHref(state->doc, state->description, (const xmlChar *)uri);
    if (found != NULL && found->prefix != NULL) {
        return found;
    }
    char candidate[64];
    snprintf(candidate, sizeof(candidate), "%s", prefix);
    for (int suffix = 1; xmlSearchNs(state->doc, state->description,
                                     (const xmlChar *)candidate) != NULL;
         suffix++) {
        snprintf(candidate, sizeof(candidate), "%s%d", prefix, suffix);
    }
    return xmlNewNs(state->description, (const xmlChar *)uri, (const xmlChar *)candidate);
}

static picotag_status create_property(merge_state *state, xmp_property *property) {
    xmlNsPtr property_ns = namespace_for(state, property->namespace_uri, property->prefix);
    xmlNsPtr rdf_ns = namespace_for(state, NS_RDF, "rdf");
    if (property_ns == NULL || rdf_ns == NULL) {
        return out_of_memory(state);
    }
    xmlNodePtr element =
        xmlNewDocNode(state->doc, property_ns, (const xmlChar *)property->local_name, NULL);
    xmlNodePtr bag = xmlNewDocNode(state->doc, rdf_ns, (const xmlChar *)"Bag", NULL);
    if (element == NULL || bag == NULL) {
        xmlFreeNode(element);
        xmlFreeNode(bag);
        return out_of_memory(state);
    }
    if (!append_indented(state->description, element) || !append_indented(element, bag)) {
        return out_of_memory(state);
    }
    property->element = element;
    property->container = bag;
    return PICOTAG_OK;
}

static picotag_status append_item(merge_state *state, xmp_property *property, const char *text) {
    if (property->element == NULL && create_property(state, property) != PICOTAG_OK) {
        return state->status;
    }
    /* The container is an rdf: element, so its namespace is the RDF one. */
    xmlNodePtr item =
        xmlNewDocNode(state->doc, property->container->ns, (const xmlChar *)"li", NULL);
    /* xmlNodeAddContent stores the text as is; the serialiser escapes it. */
    if (item != NULL) {
        xmlNodeAddContent(item, (const xmlChar *)text);
    }
    if (item == NULL || !append_indented(property->container, item)) {
        xmlFreeNode(item);
        return out_of_memory(state);
    }
    state->changed = 1;
    return PICOTAG_OK;
}

typedef int (*item_filter)(const char *text, const void *context);

/* Removes the plain-text items that `remove` selects. */
static void remove_items(merge_state *state, xmp_property *property, item_filter remove,
                         const void *context) {
    if (property->container == NULL) {
        return;
    }
    xmlNodePtr next;
    for (xmlNodePtr item = property->container->children; item != NULL; item = next) {
        next = item->next;
        if (!is_element(item, NS_RDF, "li")) {
            continue;
        }
        xmlChar *text = plain_item_text(item);
        if (text != NULL && remove((const char *)text, context)) {
            remove_indented(item);
            state->changed = 1;
        }
        xmlFree(text);
    }
}

static int has_rdf_items(const xmp_property *property) {
    for (xmlNodePtr item = property->container->children; item != NULL; item = item->next) {
        if (is_element(item, NS_RDF, "li")) {
            return 1;
        }
    }
    return 0;
}

/* Removes a property that picotag emptied, so no empty Bag is left behind;
 * one that was already empty stays as the user left it. */
static void drop_if_emptied(merge_state *state, xmp_property *property) {
    if (property->element == NULL || !property->had_items || has_rdf_items(property)) {
        return;
    }
    remove_indented(property->element);
    property->element = NULL;
    property->container = NULL;
    state->changed = 1;
}

static int select_any_item(const char *text, const void *context) {
    (void)text;
    (void)context;
    return 1;
}

static int is_picotag_hierarchy(const char *text, const void *context) {
    static const char prefix[] = XMP_HIERARCHY_ROOT "|";
    (void)context;
    return strncmp(text, prefix, sizeof(prefix) - 1) == 0;
}

typedef struct subject_removal {
    const string_list *picotag_keywords;   /* picotag's, less the protected ones */
    const string_list *new_keywords;
} subject_removal;

static int is_stale_picotag_keyword(const char *text, const void *context) {
    const subject_removal *removal = context;
    return list_contains(removal->picotag_keywords, text) &&
           !list_contains(removal->new_keywords, text);
}

/* ---- The merge ----------------------------------------------------------- */

typedef struct keyword_sets {
    string_list names;              /* new flat keywords, in order */
    string_list hierarchy;          /* new hierarchical keywords */
    string_list old_hierarchy;      /* all plain lr:hierarchicalSubject items */
    string_list old_record;         /* picotag:Keywords items */
    string_list old_subject;        /* plain dc:subject items */
    string_list protected_names;    /* components of the user's hierarchies */
    string_list picotag_names;      /* flat keywords picotag added earlier */
    string_list new_record;
} keyword_sets;

static void keyword_sets_free(keyword_sets *sets) {
    list_free(&sets->names);
    list_free(&sets->hierarchy);
    list_free(&sets->old_hierarchy);
    list_free(&sets->old_record);
    list_free(&sets->old_subject);
    list_free(&sets->protected_names);
    list_free(&sets->picotag_names);
    list_free(&sets->new_record);
}

static int add_hierarchy_components(string_list *list, const char *entry) {
    char *copy = strdup(entry);
    if (copy == NULL) {
        return 0;
    }
    int ok = 1;
    char *rest = copy;
    for (char *part = strsep(&rest, "|"); part != NULL && ok; part = strsep(&rest, "|")) {
        if (part[0] != '\0') {
            ok = list_add_unique(list, part);
        }
    }
    free(copy);
    return ok;
}

static int build_new_keywords(const picotag_xmp_keyword *keywords, size_t count,
                              keyword_sets *sets) {
    for (size_t i = 0; i < count; i++) {
        const char *name = keywords[i].name;
        const char *group = keywords[i].group;
        char entry[1024];
        if (group == NULL || group[0] == '\0' || strcmp(group, name) == 0) {
            snprintf(entry, sizeof(entry), "%s|%s", XMP_HIERARCHY_ROOT, name);
        } else {
            snprintf(entry, sizeof(entry), "%s|%s|%s", XMP_HIERARCHY_ROOT, group, name);
        }
        if (!list_add_unique(&sets->names, name) || !list_add_unique(&sets->hierarchy, entry)) {
            return 0;
        }
    }
    return 1;
}

/* Decides which flat keywords are picotag's: those picotag:Keywords lists,
 * else the leaves of picotag's hierarchical entries; never one that the
 * user's own hierarchies contain. */
static int find_picotag_names(const xmp_property *record, keyword_sets *sets) {
    for (size_t i = 0; i < sets->old_hierarchy.count; i++) {
        const char *entry = sets->old_hierarchy.items[i];
        if (!is_picotag_hierarchy(entry, NULL) &&
            !add_hierarchy_components(&sets->protected_names, entry)) {
            return 0;
        }
    }

    string_list candidates = {0};
    int ok = 1;
    if (record->element != NULL) {
        for (size_t i = 0; i < sets->old_record.count && ok; i++) {
            ok = list_add_unique(&candidates, sets->old_record.items[i]);
        }
    } else {
        for (size_t i = 0; i < sets->old_hierarchy.count && ok; i++) {
            const char *entry = sets->old_hierarchy.items[i];
            if (is_picotag_hierarchy(entry, NULL)) {
                ok = list_add_unique(&candidates, strrchr(entry, '|') + 1);
            }
        }
    }
    for (size_t i = 0; i < candidates.count && ok; i++) {
        if (!list_contains(&sets->protected_names, candidates.items[i])) {
            ok = list_add(&sets->picotag_names, candidates.items[i]);
        }
    }
    list_free(&candidates);
    return ok;
}

static picotag_status merge_hierarchy(merge_state *state, keyword_sets *sets) {
    string_list old_picotag = {0};
    for (size_t i = 0; i < sets->old_hierarchy.count; i++) {
        if (is_picotag_hierarchy(sets->old_hierarchy.items[i], NULL) &&
            !list_add_unique(&old_picotag, sets->old_hierarchy.items[i])) {
            list_free(&old_picotag);
            return out_of_memory(state);
        }
    }
    int unchanged = same_members(&old_picotag, &sets->hierarchy);
    list_free(&old_picotag);
    if (unchanged) {
        return PICOTAG_OK;
    }

    remove_items(state, &state->hierarchy, is_picotag_hierarchy, NULL);
    for (size_t i = 0; i < sets->hierarchy.count; i++) {
        if (append_item(state, &state->hierarchy, sets->hierarchy.items[i]) != PICOTAG_OK) {
            return state->status;
        }
    }
    return PICOTAG_OK;
}

static picotag_status merge_subject(merge_state *state, keyword_sets *sets) {
    subject_removal removal = {&sets->picotag_names, &sets->names};
    remove_items(state, &state->subject, is_stale_picotag_keyword, &removal);

    string_list present = {0};
    if (read_items(state, &state->subject, &present) != PICOTAG_OK) {
        return state->status;
    }
    for (size_t i = 0; i < sets->names.count && state->status == PICOTAG_OK; i++) {
        const char *name = sets->names.items[i];
        int ours = 1;
        if (!list_contains(&present, name)) {
            append_item(state, &state->subject, name);
        } else {
            /* Already present: it stays picotag's if picotag added it
             * before, and otherwise it is the user's and remains so. */
            ours = list_contains(&sets->picotag_names, name);
        }
        if (ours && !list_add(&sets->new_record, name)) {
            out_of_memory(state);
        }
    }
    list_free(&present);
    return state->status;
}

/* Writes picotag:Keywords whenever picotag has hierarchical entries in the
 * sidecar, as an empty Bag when it added no flat keyword. Its presence marks
 * the list as exact, so the fallback rule never applies to a sidecar that
 * picotag wrote itself. */
static picotag_status merge_record(merge_state *state, keyword_sets *sets) {
    xmp_property *record = &state->record;
    if (sets->hierarchy.count == 0) {
        if (record->element != NULL) {
            remove_indented(record->element);
            record->element = NULL;
            record->container = NULL;
            state->changed = 1;
        }
        return PICOTAG_OK;
    }
    if (record->element != NULL && same_members(&sets->old_record, &sets->new_record)) {
        return PICOTAG_OK;
    }

    if (record->element == NULL) {
        if (create_property(state, record) != PICOTAG_OK) {
            return state->status;
        }
    } else {
        remove_items(state, record, select_any_item, NULL);
    }
    for (size_t i = 0; i < sets->new_record.count; i++) {
        if (append_item(state, record, sets->new_record.items[i]) != PICOTAG_OK) {
            return state->status;
        }
    }
    state->changed = 1;
    return PICOTAG_OK;
}

static picotag_status parse_document(merge_state *state, const char *input, size_t length) {
    xmlParserCtxtPtr context = xmlNewParserCtxt();
    if (context == NULL) {
        return out_of_memory(state);
    }
    /* NONET: never fetch anything; entities are not substituted and no DTD
     * is loaded, and a document with a DOCTYPE is rejected below. */
    int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    state->doc = xmlCtxtReadMemory(context, input, (int)length, state->name, NULL, options);
    if (state->doc == NULL) {
        xmlErrorPtr parse_error = xmlCtxtGetLastError(context);
        char problem[300];
        snprintf(problem, sizeof(problem), "not well-formed XML at line %d: %s",
                 parse_error != NULL ? parse_error->line : 0,
                 parse_error != NULL && parse_error->message != NULL ? parse_error->message
                                                                     : "unknown error");
        char *newline = strchr(problem, '\n');
        if (newline != NULL) {
            *newline = '\0';
        }
        xmlFreeParserCtxt(context);
        return fail(state, PICOTAG_ERROR_FORMAT, problem);
    }
    xmlFreeParserCtxt(context);

    if (state->doc->intSubset != NULL || state->doc->extSubset != NULL) {
        return fail(state, PICOTAG_ERROR_UNSUPPORTED,
                    "has a DOCTYPE, which XMP does not allow and picotag will not expand");
    }
    return PICOTAG_OK;
}

static picotag_status find_structure(merge_state *state) {
    int rdf_count = 0;
    find_rdf(xmlDocGetRootElement(state->doc), &state->rdf, &rdf_count);
    if (rdf_count == 0) {
        return fail(state, PICOTAG_ERROR_FORMAT, "not an XMP packet (no rdf:RDF element)");
    }
    if (rdf_count > 1) {
        return fail(state, PICOTAG_ERROR_UNSUPPORTED, "has more than one rdf:RDF element");
    }

    for (xmlNodePtr child = state->rdf->children; child != NULL; child = child->next) {
        if (is_element(child, NS_RDF, "Description")) {
            state->description = child;
            break;
        }
    }
    if (state->description == NULL) {
        xmlNodePtr description =
            xmlNewDocNode(state->doc, state->rdf->ns, (const xmlChar *)"Description", NULL);
        if (description == NULL ||
            xmlNewNsProp(description, state->rdf->ns, (const xmlChar *)"about",
                         (const xmlChar *)"") == NULL ||
            !append_indented(state->rdf, description)) {
            xmlFreeNode(description);
            return out_of_memory(state);
        }
        state->description = description;
    }

    if (find_property(state, &state->subject) != PICOTAG_OK ||
        find_property(state, &state->hierarchy) != PICOTAG_OK ||
        find_property(state, &state->record) != PICOTAG_OK) {
        return state->status;
    }
    return PICOTAG_OK;
}

static picotag_status merge_document(merge_state *state, const picotag_xmp_keyword *keywords,
                                     size_t keyword_count) {
    keyword_sets sets = {0};
    if (!build_new_keywords(keywords, keyword_count, &sets)) {
        keyword_sets_free(&sets);
        return out_of_memory(state);
    }
    if (read_items(state, &state->hierarchy, &sets.old_hierarchy) == PICOTAG_OK &&
        read_items(state, &state->record, &sets.old_record) == PICOTAG_OK &&
        read_items(state, &state->subject, &sets.old_subject) == PICOTAG_OK &&
        !find_picotag_names(&state->record, &sets)) {
        out_of_memory(state);
    }

    if (state->status == PICOTAG_OK) {
        merge_hierarchy(state, &sets);
    }
    if (state->status == PICOTAG_OK) {
        merge_subject(state, &sets);
    }
    if (state->status == PICOTAG_OK) {
        merge_record(state, &sets);
    }
    if (state->status == PICOTAG_OK) {
        drop_if_emptied(state, &state->subject);
        drop_if_emptied(state, &state->hierarchy);
    }
    keyword_sets_free(&sets);
    return state->status;
}

/* Whether the document starts with an XML declaration (after a BOM). */
static int has_declaration(const char *input, size_t length) {
    static const char bom[] = "\xef\xbb\xbf";
    if (length >= 3 && memcmp(input, bom, 3) == 0) {
        input += 3;
        length -= 3;
    }
    return length >= 5 && memcmp(input, "<?xml", 5) == 0;
}

/* Serialises the document as UTF-8, with an XML declaration only when the
 * input had one, so that an xpacket header stays the first thing in it. */
static void serialise(merge_state *state, int declaration, char **output,
                      size_t *output_length) {
    xmlBufferPtr buffer = xmlBufferCreate();
    xmlSaveCtxtPtr save =
        buffer != NULL ? xmlSaveToBuffer(buffer, "UTF-8", declaration ? 0 : XML_SAVE_NO_DECL)
                       : NULL;
    int saved = save != NULL && xmlSaveDoc(save, state->doc) >= 0;
    if (save != NULL) {
        saved = xmlSaveClose(save) >= 0 && saved;
    }

    size_t size = saved ? (size_t)xmlBufferLength(buffer) : 0;
    char *copy = size > 0 ? malloc(size) : NULL;
    if (copy == NULL) {
        out_of_memory(state);
    } else {
        memcpy(copy, xmlBufferContent(buffer), size);
        *output = copy;
        *output_length = size;
    }
    xmlBufferFree(buffer);
}

static pthread_once_t parser_initialised = PTHREAD_ONCE_INIT;

static void initialise_parser(void) {
    xmlInitParser();
}

picotag_status xmp_merge_keywords(const char *input, size_t input_length, const char *name,
                                  const picotag_xmp_keyword *keywords, size_t keyword_count,
                                  char **output, size_t *output_length, int *changed,
                                  picotag_error *error) {
    *output = NULL;
    *output_length = 0;
    *changed = 0;
    if (input_length > XMP_MAX_SIDECAR_BYTES) {
        return picotag_error_set(error, PICOTAG_ERROR_UNSUPPORTED,
                                 "sidecar %s: larger than %d bytes; the sidecar was not changed",
                                 name, XMP_MAX_SIDECAR_BYTES);
    }
    pthread_once(&parser_initialised, initialise_parser);

    merge_state state = {
        .name = name,
        .error = error,
        .subject = {NS_DC, "subject", "dc", "dc:subject", NULL, NULL, 0},
        .hierarchy = {NS_LR, "hierarchicalSubject", "lr", "lr:hierarchicalSubject", NULL, NULL,
                      0},
        .record = {XMP_PICOTAG_NAMESPACE, "Keywords", "picotag", "picotag:Keywords", NULL, NULL,
                   0},
    };
    int creating = input == NULL;
    if (creating) {
        input = new_document;
        input_length = sizeof(new_document) - 1;
    }

    if (parse_document(&state, input, input_length) == PICOTAG_OK &&
        find_structure(&state) == PICOTAG_OK) {
        merge_document(&state, keywords, keyword_count);
    }

    if (state.status == PICOTAG_OK && (state.changed || creating)) {
        serialise(&state, has_declaration(input, input_length), output, output_length);
        *changed = state.status == PICOTAG_OK;
    }
    xmlFreeDoc(state.doc);
    return state.status;
}
