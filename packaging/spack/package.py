# Spack recipe for sqltrack: copy this directory into a Spack repository as
# packages/sqltrack/package.py (`spack repo create`, `spack repo add`), then
# `spack install sqltrack`. tests/programs/spack_recipe_test.py holds its version and
# dependencies to CMakeLists.txt.

from spack.package import *


class Sqltrack(CMakePackage):
    """Slurm-aware job wrapper that records experiments (command, environment, Slurm job,
    metrics, how it ended) in a SQLite file or a PostgreSQL database."""

    homepage = "https://github.com/sqltrack/sqltrack"
    git = "https://github.com/sqltrack/sqltrack.git"

    version("main", branch="main")
    version("0.1.0", tag="v0.1.0")

    depends_on("cxx", type="build")
    depends_on("cmake@3.25:", type="build")

    depends_on("boost@1.81.0+program_options")
    # libpq is loaded at run time (dlopen of libpq.so.5); the build needs its headers, and
    # Spack's RPATH of this link dependency is where the executables find it.
    depends_on("postgresql")
    depends_on("sqlite")
    depends_on("yaml-cpp")
    depends_on("nlohmann-json@3:")

    depends_on("googletest", type="test")
    depends_on("libpng", type="test")
    depends_on("python@3:", type="test")

    # `sqltrack report` inlines dygraphs; Debian takes it from libjs-dygraphs, Spack from npm.
    resource(
        name="dygraphs",
        url="https://registry.npmjs.org/dygraphs/-/dygraphs-2.2.1.tgz",
        sha256="f515549becffeb0912b0dffa963f7d42726818ca7ef5605bdd7707995742b7ec",
        placement="dygraphs",
    )

    def cmake_args(self):
        dist = join_path(self.stage.source_path, "dygraphs", "dist")
        return [
            self.define("SQLTRACK_BUILD_TESTS", self.run_tests),
            self.define("SQLTRACK_BUILD_BENCH", False),
            # Spack links its own shared libraries, found through RPATH.
            self.define("SQLTRACK_STATIC_DEPS", False),
            self.define("SQLTRACK_DYGRAPHS_JS", join_path(dist, "dygraph.min.js")),
            self.define("SQLTRACK_DYGRAPHS_CSS", join_path(dist, "dygraph.min.css")),
            self.define("SQLTRACK_PYTHON_DIR", "share/sqltrack/python"),
        ]

    def setup_run_environment(self, env):
        env.prepend_path("PYTHONPATH", join_path(self.prefix, "share", "sqltrack", "python"))
