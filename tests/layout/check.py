#!/usr/bin/env python3
"""
The structure rules of issue 9, checked on the tree and its build:
  - no two files of one folder call each other in a circle (the call
    graph comes from the object files: nm's defined and undefined
    symbols of each library's objects);
  - no source file outside tests/ and bench/ over 700 lines;
  - no function over 80 lines (style(9): the name at column 0, the body
    ends at the first "}" at column 0), except those listed as tables.
Usage: check.py SOURCE_ROOT BUILD_DIR
       check.py --self-test   (proves each rule fires on a made-up tree)
"""
import collections
import glob
import os
import re
import subprocess
import sys

MAX_FILE = 700
MAX_FUNC = 80
FOLDERS = ('common', 'ca', 'db', 'redis', 'service', 'api', 'server')


def objects(build, folder):
    return sorted(glob.glob(f'{build}/{folder}/lib*.a.p/*.o'))


def symbols(obj):
    out = subprocess.run(['nm', obj], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in 'TDBRV':
            defined.add(parts[2])
        elif len(parts) == 2 and parts[0] == 'U':
            undefined.add(parts[1])
    return defined, undefined


def cycles(build, folder):
    defs, undefs = {}, {}
    for o in objects(build, folder):
        name = os.path.basename(o)[:-2]
        defs[name], undefs[name] = symbols(o)
    owner = {s: f for f, ds in defs.items() for s in ds}
    graph = collections.defaultdict(set)
    for f, us in undefs.items():
        for s in us:
            if s in owner and owner[s] != f:
                graph[f].add(owner[s])
    # Tarjan's strongly connected components.
    index, low, stack, on, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(defs):
        if v not in index:
            visit(v)
    msgs = []
    for comp in found:
        lines = [f'{folder}/: circle among {", ".join(comp)}']
        for a in comp:
            for b in sorted(graph[a] & set(comp)):
                syms = sorted(s for s in undefs[a] if owner.get(s) == b)
                lines.append(f'    {a} -> {b}: {" ".join(syms[:5])}')
        msgs.append('\n'.join(lines))
    return msgs, len(defs)


FUNC_START = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)\(')


def long_functions(path):
    out = []
    name, start = None, 0
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            m = FUNC_START.match(line)
            if m:
                name, start = m.group(1), n
            elif line.startswith('}') and name is not None:
                if n - start + 1 > MAX_FUNC:
                    out.append(f'{path}:{start}: {name} is '
                               f'{n - start + 1} lines (max {MAX_FUNC})')
                name = None
    return out


def self_test():
    """A tree that breaks every rule once: each must be reported."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'src', 'common')
        obj = os.path.join(tmp, 'build', 'common', 'libcommon.a.p')
        os.makedirs(src)
        os.makedirs(obj)
        files = {
            'a.c': 'int b(void);\nint\na(void)\n{\n\treturn b();\n}\n',
            'b.c': 'int a(void);\nint\nb(void)\n{\n\treturn a();\n}\n',
            'c.c': 'int\nc(void)\n{\n' + '\t;\n' * 80 + '\treturn 0;\n}\n',
            'big.h': '/* x */\n' * 701,
        }
        for name, text in files.items():
            with open(os.path.join(src, name), 'w') as f:
                f.write(text)
            if name.endswith('.c'):
                subprocess.run(['cc', '-c', '-o',
                                os.path.join(obj, name + '.o'),
                                os.path.join(src, name)], check=True)
        out = subprocess.run([sys.executable, __file__,
                              os.path.join(tmp, 'src'),
                              os.path.join(tmp, 'build')],
                             capture_output=True, text=True)
        want = ['common/: circle among a.c, b.c',
                'common/big.h: 701 lines',
                'common/c.c:2: c is 84 lines']
        missing = [w for w in want if w not in out.stdout]
        if out.returncode != 1 or missing:
            print(out.stdout)
            print('self-test failed; not reported:', missing)
            return 1
        print('self-test: circle, long file and long function reported')
        return 0


def main():
    if sys.argv[1:] == ['--self-test']:
        return self_test()
    root, build = sys.argv[1], sys.argv[2]
    problems = []
    nobj = 0
    for folder in FOLDERS:
        msgs, n = cycles(build, folder)
        problems += msgs
        nobj += n
    if nobj == 0:
        print('no object files under', build)
        return 1
    nfiles = 0
    for folder in FOLDERS:
        for path in sorted(glob.glob(f'{root}/{folder}/*.[ch]')):
            nfiles += 1
            rel = os.path.relpath(path, root)
            with open(path, encoding='utf-8') as f:
                nlines = sum(1 for _ in f)
            if nlines > MAX_FILE:
                problems.append(f'{rel}: {nlines} lines (max {MAX_FILE})')
            if path.endswith('.c'):
                problems += [p.replace(path, rel)
                             for p in long_functions(path)]
    for p in problems:
        print(p)
    print(f'{nobj} objects, {nfiles} files: {len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
