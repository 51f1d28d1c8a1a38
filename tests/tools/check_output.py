"""Checks of picotag's machine-readable output for tools_cli_test.sh.

Each subcommand prints what it found wrong, one line per problem, with the
expected and actual values, and exits 1 when anything was wrong:

  jsonl FILE [--lang en|ko] [--manifest TSV] [--sha256 HEX] [--status S]
      every line is a photo object of `picotag tag --json`
  table TABLE JSON           the table lists the same tags and scores
  csv CSV JSON               the CSV rows hold the same paths, tags, scores
  search PICOTAG MODEL CATALOGUE JSON
      runs `picotag search` queries built from the tags in JSON and compares
      the printed paths with the sets the JSON implies
  captured JSON EXIFTOOL_JSON [--catalogue DB] [--min-dated N]
      every photo's "captured" is the capture time that exiftool's EXIF
      tags give, and the catalogue DB records the same. At least N photos
      have one.
  catalogue DB               prints path, id, tagged_at, model identity
  mtime FILE                 prints the modification time in nanoseconds
"""

import csv
import datetime
import json
import os
import re
import sqlite3
import subprocess
import sys

PHOTO_KEYS = {"path", "status", "width", "height", "captured", "tags", "model"}
TAG_KEYS = {"name", "name_en", "name_ko", "group", "score", "logit"}

problems = []


def problem(text):
    problems.append(text)
    print("FAIL: " + text)


def read_jsonl(path):
    photos = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            try:
                photos.append(json.loads(line))
            except json.JSONDecodeError as error:
                problem(f"{path}:{number}: not JSON ({error}): {line!r}")
    return photos


def option(arguments, name, default=None):
    if name in arguments:
        return arguments[arguments.index(name) + 1]
    return default


def is_korean(text):
    return any("\uac00" <= character <= "\ud7a3" for character in text)


def check_tag(photo, tag, language):
    where = f"{photo.get('path')}: tag {tag.get('name_en')}"
    if set(tag) != TAG_KEYS:
        problem(f"{where}: keys {sorted(tag)}, expected {sorted(TAG_KEYS)}")
        return
    if not 0.5 <= tag["score"] <= 1.0:
        problem(f"{where}: score {tag['score']}, expected 0.5 to 1 (threshold 0)")
    if tag["logit"] < 0:
        problem(f"{where}: logit {tag['logit']} below the threshold 0 but tagged")
    expected_name = tag["name_ko"] if language == "ko" else tag["name_en"]
    if tag["name"] != expected_name:
        problem(f"{where}: name {tag['name']!r}, expected {expected_name!r}")
    if not is_korean(tag["name_ko"]):
        problem(f"{where}: name_ko {tag['name_ko']!r} is not Korean")
    if language == "ko" and not is_korean(tag["group"]):
        problem(f"{where}: group {tag['group']!r} is not Korean")
    if language == "en" and (not tag["group"] or is_korean(tag["group"])):
        problem(f"{where}: group {tag['group']!r} is not an English name")


def command_jsonl(arguments):
    path = arguments[0]
    language = option(arguments, "--lang", "en")
    manifest_path = option(arguments, "--manifest")
    sha256 = option(arguments, "--sha256")
    status = option(arguments, "--status")
    sizes = {}
    if manifest_path:
        with open(manifest_path, encoding="utf-8") as stream:
            for line in stream:
                name, width, height = line.split("\t")
                sizes[name] = (int(width), int(height))

    photos = read_jsonl(path)
    for photo in photos:
        where = photo.get("path")
        if set(photo) != PHOTO_KEYS:
            problem(f"{where}: keys {sorted(photo)}, expected {sorted(PHOTO_KEYS)}")
            continue
        if status and photo["status"] != status:
            problem(f"{where}: status {photo['status']!r}, expected {status!r}")
        name = os.path.basename(photo["path"])
        if name in sizes and (photo["width"], photo["height"]) != sizes[name]:
            problem(f"{where}: size {photo['width']} x {photo['height']}, expected "
                    f"{sizes[name][0]} x {sizes[name][1]}")
        if sha256 and photo["model"].get("sha256") != sha256:
            problem(f"{where}: model {photo['model']}, expected sha256 {sha256}")
        scores = [tag.get("score", 0) for tag in photo["tags"]]
        if scores != sorted(scores, reverse=True):
            problem(f"{where}: scores not highest first: {scores}")
        for tag in photo["tags"]:
            check_tag(photo, tag, language)
    print(len(photos))


def command_table(arguments):
    table_path, json_path = arguments
    photos = {photo["path"]: photo for photo in read_jsonl(json_path)}
    with open(table_path, encoding="utf-8") as stream:
        lines = stream.read().splitlines()
    header, rows = lines[0], lines[1:]
    if header.split() not in (["photo", "tags"], ["사진", "태그"]):
        problem(f"table header {header!r}")
    if len(rows) != len(photos):
        problem(f"table has {len(rows)} rows, JSON {len(photos)} photos")
    for row in rows:
        path, _, tags = row.partition("  ")
        path = path.rstrip()
        photo = photos.get(path)
        if photo is None:
            problem(f"table row for a path the JSON lacks: {row!r}")
            continue
        expected = ", ".join(f"{tag['name']} {tag['score']:.2f}" for tag in photo["tags"])
        if tags.strip() != expected:
            problem(f"{path}: table tags\n  {tags.strip()!r}\nexpected\n  {expected!r}")


def command_csv(arguments):
    csv_path, json_path = arguments
    photos = {photo["path"]: photo for photo in read_jsonl(json_path)}
    with open(csv_path, encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    expected_header = ["path", "status", "width", "height", "tags", "scores", "model"]
    if rows[0] != expected_header:
        problem(f"CSV header {rows[0]}, expected {expected_header}")
    if len(rows) - 1 != len(photos):
        problem(f"CSV has {len(rows) - 1} rows, JSON {len(photos)} photos")
    for row in rows[1:]:
        if len(row) != len(expected_header):
            problem(f"CSV row with {len(row)} fields: {row}")
            continue
        photo = photos.get(row[0])
        if photo is None:
            problem(f"CSV path {row[0]!r} is not in the JSON")
            continue
        names = [tag["name"] for tag in photo["tags"]]
        scores = [f"{tag['score']:.4f}" for tag in photo["tags"]]
        if row[4].split(";") != names and not (row[4] == "" and not names):
            problem(f"{row[0]}: CSV tags {row[4]!r}, expected {';'.join(names)!r}")
        if row[5].split(";") != scores and not (row[5] == "" and not scores):
            problem(f"{row[0]}: CSV scores {row[5]!r}, expected {';'.join(scores)!r}")
        if (row[2], row[3]) != (str(photo["width"]), str(photo["height"])):
            problem(f"{row[0]}: CSV size {row[2]} x {row[3]}")
        if row[6] != photo["model"]["name"]:
            problem(f"{row[0]}: CSV model {row[6]!r}, expected {photo['model']['name']!r}")


def run_search(picotag, model, catalogue, query, *options):
    command = [picotag, "search", "--model", model, "--catalog", catalogue, *options, "--", *query]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    return result.returncode, result.stdout, result.stderr


def expect_paths(picotag, model, catalogue, query, expected, *options):
    status, out, err = run_search(picotag, model, catalogue, query, *options)
    actual = set(out.splitlines())
    wanted_status = 0 if expected else 1
    if status != wanted_status:
        problem(f"search {query} {options}: exit status {status}, expected {wanted_status}\n{err}")
    if actual != expected:
        problem(f"search {query} {options}:\n  missing {sorted(expected - actual)}\n"
                f"  unexpected {sorted(actual - expected)}")


def command_search(arguments):
    picotag, model, catalogue, json_path = arguments
    photos = read_jsonl(json_path)
    every = {os.path.realpath(photo["path"]) for photo in photos}
    by_label = {}
    names = {}
    groups = {}
    for photo in photos:
        path = os.path.realpath(photo["path"])
        for tag in photo["tags"]:
            by_label.setdefault(tag["name_en"], {})[path] = tag["score"]
            names[tag["name_en"]] = tag["name_ko"]
            groups.setdefault(tag["group"], set()).add(path)

    # Labels that some photos have and others do not; a name of several
    # words first, because it is written with '_' in a query.
    candidates = sorted((label for label, paths in by_label.items()
                         if 1 < len(paths) < len(every)),
                        key=lambda label: (" " not in label, label))
    if len(candidates) < 2:
        problem(f"too few labels to search for: {candidates}")
        return
    first = candidates[0]
    second = next(label for label in candidates[1:]
                  if set(by_label[label]) != set(by_label[first]))
    first_paths = set(by_label[first])
    second_paths = set(by_label[second])
    first_word = first.replace(" ", "_")
    second_word = second.replace(" ", "-")

    expect_paths(picotag, model, catalogue, [first_word], first_paths)
    expect_paths(picotag, model, catalogue, [names[first].replace(" ", "_")], first_paths)
    expect_paths(picotag, model, catalogue, [f'"{first}"'], first_paths)
    expect_paths(picotag, model, catalogue, [first_word, "OR", second_word],
                 first_paths | second_paths)
    expect_paths(picotag, model, catalogue, [second_word, first_word],
                 first_paths & second_paths)
    expect_paths(picotag, model, catalogue, [second_word, "-" + first_word],
                 second_paths - first_paths)
    expect_paths(picotag, model, catalogue, ["-" + first_word], every - first_paths)
    group = next(iter(sorted(groups)))
    expect_paths(picotag, model, catalogue, [group], groups[group])

    # --min-score halfway between two recorded scores, so that rounding
    # in the printed JSON cannot decide the result.
    scores = sorted(set(by_label[first].values()))
    if len(scores) >= 2:
        middle = len(scores) // 2
        threshold = (scores[middle - 1] + scores[middle]) / 2
        expected = {path for path, score in by_label[first].items() if score >= threshold}
        expect_paths(picotag, model, catalogue, [first_word], expected,
                     "--min-score", f"{threshold:.9f}")

    status, out, _ = run_search(picotag, model, catalogue, [first_word], "--limit", "1")
    if status != 0 or len(out.splitlines()) != 1:
        problem(f"search --limit 1: status {status}, {len(out.splitlines())} lines")

    status, out, err = run_search(picotag, model, catalogue, [first_word], "--json", "--lang", "ko")
    matches = [json.loads(line) for line in out.splitlines()]
    if {match["path"] for match in matches} != first_paths:
        problem(f"search --json paths differ: {sorted(match['path'] for match in matches)}")
    for match in matches:
        tags = {tag["name_en"]: tag for tag in match["tags"]}
        tag = tags.get(first)
        if tag is None:
            problem(f"search --json {match['path']}: no {first} tag: {match['tags']}")
            continue
        if abs(tag["score"] - by_label[first][match["path"]]) > 1e-6:
            problem(f"search --json {match['path']}: score {tag['score']}, tag printed "
                    f"{by_label[first][match['path']]}")
        if tag["name"] != names[first] or tag["name_ko"] != names[first]:
            problem(f"search --json --lang ko: name {tag['name']!r}, expected {names[first]!r}")

    status, out, err = run_search(picotag, model, catalogue, [first_word, "-" + first_word])
    if status != 1 or out != "" or "No photos match" not in err:
        problem(f"search with no match: status {status}, stdout {out!r}, stderr {err!r}")
    status, out, err = run_search(picotag, model, catalogue, [first_word, "-" + first_word],
                                  "--lang", "ko")
    if status != 1 or "검색 조건에 맞는 사진이 없습니다" not in err:
        problem(f"search with no match in Korean: status {status}, stderr {err!r}")
    status, out, err = run_search(picotag, model, catalogue, ["xylophone"])
    if status != 2 or "unknown word" not in err or "xylophone" not in err:
        problem(f"search for an unknown word: status {status}, stderr {err!r}")
    status, out, err = run_search(picotag, model, catalogue, ["(" + first_word])
    if status != 2 or "column" not in err:
        problem(f"search with a syntax error: status {status}, stderr {err!r}")


# Each EXIF date tag, by exiftool's name, with the offset tag that belongs
# to it, in the order picotag prefers them.
EXIF_DATES = [("DateTimeOriginal", "OffsetTimeOriginal"),
              ("CreateDate", "OffsetTimeDigitized"),
              ("ModifyDate", "OffsetTime")]


def expected_capture_time(tags):
    """The ISO 8601 capture time from exiftool's tags, or None."""
    for date_key, offset_key in EXIF_DATES:
        text = str(tags.get(date_key, ""))
        if not re.fullmatch(r"\d{4}:\d\d:\d\d \d\d:\d\d:\d\d *", text):
            continue
        try:
            moment = datetime.datetime.strptime(text.rstrip(), "%Y:%m:%d %H:%M:%S")
        except ValueError:
            continue
        result = moment.strftime("%Y-%m-%dT%H:%M:%S")
        offset = str(tags.get(offset_key, ""))
        match = re.fullmatch(r"[+-](\d\d):(\d\d)", offset)
        if match and int(match[2]) <= 59 and (int(match[1]), int(match[2])) <= (14, 0):
            result += offset
        return result
    return None


def command_captured(arguments):
    json_path, exiftool_path = arguments[:2]
    catalogue_path = option(arguments, "--catalogue")
    min_dated = int(option(arguments, "--min-dated", "0"))
    with open(exiftool_path, encoding="utf-8") as stream:
        exif = {os.path.realpath(entry["SourceFile"]): entry for entry in json.load(stream)}
    recorded = {}
    if catalogue_path:
        connection = sqlite3.connect(f"file:{catalogue_path}?mode=ro", uri=True)
        for path, captured_at in connection.execute("SELECT path, captured_at FROM photos"):
            recorded[path.decode() if isinstance(path, bytes) else path] = captured_at

    dated = 0
    for photo in read_jsonl(json_path):
        path = os.path.realpath(photo["path"])
        if path not in exif:
            problem(f"{path}: exiftool did not list it")
            continue
        expected = expected_capture_time(exif[path])
        dated += expected is not None
        if photo["captured"] != expected:
            problem(f"{path}: captured {photo['captured']!r}, exiftool gives {expected!r} "
                    f"from {exif[path]}")
        if catalogue_path and recorded.get(path, "missing") != expected:
            problem(f"{path}: catalogue captured_at {recorded.get(path, 'missing')!r}, "
                    f"expected {expected!r}")
    if dated < min_dated:
        problem(f"only {dated} photos have a capture time, expected at least {min_dated}")


def command_catalogue(arguments):
    connection = sqlite3.connect(f"file:{arguments[0]}?mode=ro", uri=True)
    rows = connection.execute(
        "SELECT photos.path, photos.id, photos.tagged_at, models.identity"
        " FROM photos JOIN models ON models.id = photos.model_id ORDER BY photos.path")
    for path, photo_id, tagged_at, identity in rows:
        path = path.decode() if isinstance(path, bytes) else path
        print(f"{path}\t{photo_id}\t{tagged_at}\t{identity}")


def main():
    name, arguments = sys.argv[1], sys.argv[2:]
    if name == "jsonl":
        command_jsonl(arguments)
    elif name == "table":
        command_table(arguments)
    elif name == "csv":
        command_csv(arguments)
    elif name == "search":
        command_search(arguments)
    elif name == "captured":
        command_captured(arguments)
    elif name == "catalogue":
        command_catalogue(arguments)
    elif name == "mtime":
        print(os.stat(arguments[0]).st_mtime_ns)
    else:
        sys.exit(f"unknown check {name}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
