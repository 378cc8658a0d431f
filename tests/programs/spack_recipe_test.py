"""packaging/spack/package.py against CMakeLists.txt: the project's version, the CMake it
needs and a Spack dependency for each find_package (tests' ones of type test).

    spack_recipe_test.py SOURCE_DIR
"""

import ast
import pathlib
import re
import sys

# find_package name -> (Spack package, what its spec must hold, the dependency's types).
SPACK_NAMES = {
    "PostgreSQL": ("postgresql", "", None),
    "SQLite3": ("sqlite", "", None),
    "Boost": ("boost", "@{version}+program_options", None),
    "yaml-cpp": ("yaml-cpp", "", None),
    "nlohmann_json": ("nlohmann-json", "@{version}", None),
    "GTest": ("googletest", "", "test"),
    "PNG": ("libpng", "", "test"),
}
NOT_PACKAGES = {"Threads", "Git"}  # the system's threads; git only names the commit


def find_packages(source):
    """(name, version or '', from the tests) for each find_package of the build."""
    found = []
    for path in [source / "CMakeLists.txt", source / "tests" / "CMakeLists.txt"]:
        for match in re.finditer(r"find_package\((\S+)(?: ([0-9.]+))?", path.read_text()):
            found.append((match.group(1), match.group(2) or "", path.parent.name == "tests"))
    return found


def recipe_calls(recipe):
    """The version() and depends_on() calls of the recipe's class body, as (spec, kwargs)."""
    calls = {"version": [], "depends_on": []}
    for node in ast.walk(ast.parse(recipe.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in calls:
            spec = ast.literal_eval(node.args[0])
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            calls[node.func.id].append((spec, kwargs))
    return calls


def main():
    source = pathlib.Path(sys.argv[1])
    cmake = (source / "CMakeLists.txt").read_text()
    failures = []
    calls = recipe_calls(source / "packaging" / "spack" / "package.py")
    depends = {spec.split("@")[0].split("+")[0]: (spec, kw) for spec, kw in calls["depends_on"]}

    version = re.search(r"project\(sqltrack VERSION ([0-9.]+)", cmake).group(1)
    if version not in [spec for spec, _ in calls["version"]]:
        failures.append(f"expected version(\"{version}\") (CMakeLists.txt), got {calls['version']}")
    minimum = re.search(r"cmake_minimum_required\(VERSION ([0-9.]+)", cmake).group(1)
    if depends.get("cmake", ("",))[0] != f"cmake@{minimum}:":
        failures.append(f"expected depends_on(\"cmake@{minimum}:\"), got {depends.get('cmake')}")

    for name, wanted_version, in_tests in find_packages(source):
        if name in NOT_PACKAGES:
            continue
        if name not in SPACK_NAMES:
            failures.append(f"find_package({name}) has no Spack name in this test: add it")
            continue
        package, holds, kind = SPACK_NAMES[name]
        holds = holds.format(version=wanted_version)
        if package not in depends:
            failures.append(f"find_package({name}): expected depends_on(\"{package}{holds}\")")
            continue
        spec, kwargs = depends[package]
        if holds.split("+")[0] and not spec.startswith(package + holds.split("+")[0]):
            failures.append(f"find_package({name} {wanted_version}): expected {package}{holds}, got {spec}")
        if "+" in holds and "+" + holds.split("+")[1] not in spec:
            failures.append(f"find_package({name}): expected {package}{holds}, got {spec}")
        wanted_type = "test" if in_tests else kind
        if kwargs.get("type") != wanted_type:
            failures.append(f"{package}: expected type={wanted_type!r}, got {kwargs.get('type')!r}")

    for failure in failures:
        print("FAIL:", failure, file=sys.stderr)
    if failures:
        sys.exit(1)
    print(f"spack recipe: version {version}, cmake@{minimum}:, dependencies match")


main()
