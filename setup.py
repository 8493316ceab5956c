"""The wheel carries what the app serves and runs beside its package: templates, static
files, migrations and the translation catalogues compiled here (pyproject.toml holds the
rest of the metadata). In a checkout the app reads them where they are (config.RESOURCES)."""

import shutil
from pathlib import Path

from babel.messages.frontend import compile_catalog
from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
RESOURCE_DIRECTORIES = ("templates", "static", "migrations", "translations")


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "outreach" / "_resources"
        shutil.rmtree(target, ignore_errors=True)
        for name in RESOURCE_DIRECTORIES:
            shutil.copytree(
                ROOT / name,
                target / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pot"),
            )
        compiler = compile_catalog(self.distribution)
        compiler.initialize_options()
        compiler.directory = str(target / "translations")
        compiler.finalize_options()
        compiler.run()


setup(cmdclass={"build_py": BuildWithResources})
