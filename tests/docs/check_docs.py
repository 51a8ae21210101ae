"""The documentation against the code (ctest: docs_match_code, label docs).

    check_docs.py SOURCE_DIR CTEST BUILD_DIR

Checks, each failure printed with the file and what to change:
 1. test labels: every label of the build (`ctest --print-labels` in
    BUILD_DIR) is listed in docs/ARCHITECTURE.md's "Test labels" table and in
    the README's label list ("labels: `unit`, ..."), and neither lists a label
    the build does not have (but the few of LABEL_CONDITIONS below, which some
    configurations leave out);
 2. modules: every path docs/ARCHITECTURE.md names in backquotes (`lib/pim/`,
    `state/pairing_index`, `sync_task.cpp`, ...) exists, and it names every
    folder under lib/, tools/, examples/ and bindings/;
 3. links: every relative link of every Markdown file resolves to a file or
    folder of the checkout;
 4. the map: README.md links every other Markdown file of the checkout, and
    each file says near its top whom it is for (a newcomer, an
    administrator, a vendor or a contributor);
 5. anchors: a link to `FILE.md#heading` names a heading of FILE.md.
Standard library only; exit status 1 when anything is stale.
"""

import os
import re
import subprocess
import sys

# Labels that some configurations of the build leave out, so they may be
# listed in the docs without the build at hand having them, and why.
LABEL_CONDITIONS = {
    "bindings": "not with SMK_SANITIZE: an instrumented library cannot be loaded into an uninstrumented Python",
    "readme": "not with SMK_SANITIZE: it tests the README's own Release build, not the build at hand",
    "bench": "not with SMK_BUILD_BENCH=OFF (the sanitizer build): it runs the benchmark programs",
    "load": "not with SMK_BUILD_BENCH=OFF (the sanitizer build): it runs the load generator of bench/",
}

# Names of other projects' files that docs/ARCHITECTURE.md gives in backquotes.
EXTERNAL_NAMES = {
    "wbxml_conv.h": "libwbxml2's header, where the page says why the codec is the project's own",
}

# Folders of the checkout that hold no documentation of their own.
SKIP_DIRS = {".git", "__pycache__", "syncmlkit-data", "node_modules"}

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^\s*(```|~~~)")
# What a backquoted path in ARCHITECTURE.md starts with: a top-level folder
# of the checkout, or a folder under lib/ (the diagram and the text say
# `state/`, `engine/`).
TOP_DIRS = ("lib", "include", "capi", "tools", "examples", "bindings", "tests", "docs", "scripts", "bench")
SOURCE_EXT = (".cpp", ".hpp", ".h", ".c", ".py", ".cmake", ".sh", ".md")


def prose_lines(text):
    """The lines of a Markdown text outside fenced code blocks, numbered from 1."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def markdown_files(root):
    found = []
    for folder, dirs, files in os.walk(root):
        # Build folders (build*/, or any folder CMake configured) and hidden ones hold no docs.
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith((".", "build"))
                         and not os.path.exists(os.path.join(folder, d, "CMakeCache.txt")))
        found += [os.path.relpath(os.path.join(folder, f), root) for f in sorted(files) if f.endswith(".md")]
    return found


def links(root, md):
    """(line, target, resolved path relative to root) of each relative link in md."""
    with open(os.path.join(root, md), encoding="utf-8") as f:
        text = f.read()
    for number, line in prose_lines(text):
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # http:, mailto:, an anchor of the page itself
            path = target.split("#", 1)[0]
            resolved = os.path.normpath(os.path.join(os.path.dirname(md), path))
            yield number, target, resolved


def build_labels(ctest, build_dir):
    out = subprocess.run([ctest, "--print-labels"], cwd=build_dir, capture_output=True, text=True, check=True).stdout
    if "All Labels:" not in out:
        raise SystemExit("check_docs: unexpected output of ctest --print-labels:\n" + out)
    return {line.strip() for line in out.split("All Labels:", 1)[1].splitlines() if line.strip()}


def section(text, heading):
    """The lines under a heading (any level) up to the next heading of the same or a higher level."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(#+)\s+(.*?)\s*$", line)
        if m and m.group(2) == heading:
            level = len(m.group(1))
            body = []
            for rest in lines[i + 1:]:
                n = re.match(r"^(#+)\s", rest)
                if n and len(n.group(1)) <= level:
                    break
                body.append(rest)
            return body
    return None


def architecture_labels(text):
    body = section(text, "Test labels")
    if body is None:
        return None
    return {m.group(1) for line in body for m in [re.match(r"^\|\s*`([^`]+)`\s*\|", line)] if m}


def readme_labels(text):
    """The backquoted words after "labels:" in the README, to the end of that paragraph."""
    for paragraph in re.split(r"\n\s*\n", text):
        at = paragraph.find("labels:")
        if at >= 0:
            return {w for w in CODE.findall(paragraph[at:]) if re.fullmatch(r"[a-z][a-z0-9-]*", w)}
    return None


def check_labels(root, ctest, build_dir, problems):
    labels = build_labels(ctest, build_dir)
    optional = set(LABEL_CONDITIONS)
    with open(os.path.join(root, "docs/ARCHITECTURE.md"), encoding="utf-8") as f:
        arch = architecture_labels(f.read())
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        readme = readme_labels(f.read())
    for doc, listed, where in (("docs/ARCHITECTURE.md", arch, 'the table under "### Test labels"'),
                               ("README.md", readme, 'the list after "labels:"')):
        if listed is None:
            problems.append(f"{doc}: no test-label list found ({where})")
            continue
        for label in sorted(labels - listed):
            problems.append(f"{doc}: test label `{label}` of the build is not in {where}")
        for label in sorted(listed - labels - optional):
            problems.append(f"{doc}: lists test label `{label}`, which no test of the build has "
                            f"(if only some configurations have it, add it to LABEL_CONDITIONS in {__file__})")
    return labels


def named_path_exists(root, token):
    """Whether a path ARCHITECTURE.md names exists: relative to the checkout,
    under lib/ (`engine/`, `state/pairing_index`), or, for a bare file name,
    anywhere in the source folders."""
    if token in EXTERNAL_NAMES:
        return True
    folder = token.endswith("/")
    token = token.rstrip("/")
    if "/" in token or folder:
        for base in ("", "lib"):
            path = os.path.join(root, base, token)
            if os.path.exists(path) or any(os.path.exists(path + ext) for ext in (".cpp", ".hpp")):
                return True
        return False
    for top in TOP_DIRS:
        for folder, dirs, files in os.walk(os.path.join(root, top)):
            if token in files:
                return True
    return False


def check_modules(root, problems):
    md = "docs/ARCHITECTURE.md"
    with open(os.path.join(root, md), encoding="utf-8") as f:
        text = f.read()
    lib_dirs = {d for d in os.listdir(os.path.join(root, "lib")) if os.path.isdir(os.path.join(root, "lib", d))}
    named = 0
    for number, line in prose_lines(text):
        for token in CODE.findall(line):
            if " " in token or "<" in token or "*" in token:
                continue
            first = token.split("/", 1)[0]
            is_path = "/" in token and (first in TOP_DIRS or first in lib_dirs)
            is_file = "/" not in token and token.endswith(SOURCE_EXT) and not token.startswith(".")
            if not (is_path or is_file):
                continue
            named += 1
            if not named_path_exists(root, token):
                problems.append(f"{md}:{number}: names `{token}`, which does not exist")
    if named < 20:
        problems.append(f"{md}: only {named} paths found in backquotes; has the page lost its module lists?")
    # The diagram and the prose name the folders as `lib/x/`; each must be there.
    for top in ("lib", "tools", "examples", "bindings"):
        for d in sorted(os.listdir(os.path.join(root, top))):
            if os.path.isdir(os.path.join(root, top, d)) and d != "__pycache__" and f"{top}/{d}" not in text:
                problems.append(f"{md}: does not name {top}/{d}/ (every folder under {top}/ is described)")


def heading_anchors(path):
    """The anchors GitHub makes of a Markdown file's headings."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    anchors = set()
    for _, line in prose_lines(text):
        m = re.match(r"^#+\s+(.*?)\s*$", line)
        if m:
            title = re.sub(r"[`*_]", "", m.group(1)).lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def check_links(root, files, problems):
    for md in files:
        for number, target, resolved in links(root, md):
            if resolved.startswith("..") or not os.path.exists(os.path.join(root, resolved)):
                problems.append(f"{md}:{number}: link ({target}) leads to nothing in the checkout")
            elif "#" in target and resolved.endswith(".md"):
                anchor = target.split("#", 1)[1]
                if anchor not in heading_anchors(os.path.join(root, resolved)):
                    problems.append(f"{md}:{number}: link ({target}): {resolved} has no heading #{anchor}")


READERS = re.compile(r"\b(newcomers?|administrators?|vendors?|contributors?)\b", re.IGNORECASE)


def check_map(root, files, problems):
    linked = {resolved for _, _, resolved in links(root, "README.md")}
    for md in files:
        if md != "README.md" and md not in linked:
            problems.append(f"README.md: does not link {md} (its \"Documentation\" section lists every document)")
        # Whom it is for: said in its opening, before its first section or code block.
        with open(os.path.join(root, md), encoding="utf-8") as f:
            opening = re.split(r"^(?:##|```)", f.read(), maxsplit=1, flags=re.MULTILINE)[0]
        if not READERS.search(opening):
            problems.append(f"{md}: its opening does not say whom it is for "
                            f"(a newcomer, an administrator, a vendor or a contributor)")


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    root, ctest, build_dir = os.path.abspath(argv[1]), argv[2], argv[3]
    problems = []
    files = markdown_files(root)
    labels = check_labels(root, ctest, build_dir, problems)
    check_modules(root, problems)
    check_links(root, files, problems)
    check_map(root, files, problems)
    for p in problems:
        print(p)
    print(f"check_docs: {len(files)} Markdown files, {len(labels)} test labels of the build; "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
