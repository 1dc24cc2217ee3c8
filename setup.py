"""Install ccimg: the jobs, features and models packages, and the `ccimg` command.

Python 3.11 only: mrjob 0.7.4 (its last release, 2020) imports `pipes` and `distutils`,
which are gone or going in 3.12/3.13.
"""
import re

from setuptools import find_packages, setup

VERSION = re.search(r'__version__ = "([^"]+)"', open("ccimg/__init__.py", encoding="utf-8").read()).group(1)

setup(
    name="ccimg",
    version=VERSION,
    description="Find the web images worth fetching in Common Crawl, and predict their size from URL and HTML.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    # Apache-2.0, like mrjob and warcio, whose code the jobs build on; every core dependency is under a
    # permissive license (Apache-2.0, BSD, MIT).  pywb (GPL-3.0) is a test-only dependency ([dev]): it is
    # run as a local index server by the tests and never imported by the installed packages.
    license="Apache-2.0",
    license_files=["LICENSE"],
    classifiers=[
        "License :: OSI Approved :: Apache Software License",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.11",
        "Operating System :: POSIX",
        "Environment :: Console",
        "Intended Audience :: Science/Research",
        "Intended Audience :: Developers",
        "Topic :: Internet :: WWW/HTTP :: Indexing/Search",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
    python_requires=">=3.11,<3.12",
    packages=find_packages(include=["jobs", "jobs.*", "features", "features.*", "models", "models.*",
                                    "ccimg", "ccimg.*", "dataio", "dataio.*", "network", "network.*"]),
    package_data={"models": ["*.skops", "*.json"], "features": ["*.json"]},
    install_requires=[
        "mrjob[aws]==0.7.4",
        "warcio>=1.7,<2",
        "boto3>=1.34",
        "requests>=2.31",
        "beautifulsoup4>=4.12",
        "html5lib>=1.1",
        "selectolax>=1.0,<2",
        "scikit-learn>=1.5",
        "numpy>=1.26",
        "scipy>=1.11",
        "skops>=0.10",
        "cdx-toolkit>=0.9.38",
        "tqdm>=4.66",
        "imagesize>=1.4",
        "orjson>=3.9",
        "protego>=0.3",
        "idna>=3",
        "tldextract>=5",
        "webencodings>=0.5",  # the WHATWG encoding label table (features/page/charset.py)
        "pillow>=10",  # ccimg fetch: decoding checks and thumbnails
    ],
    extras_require={
        "spark": ["pyspark>=3.5"],
        "report": ["matplotlib>=3.8"],
        # Parquet in and out of every command (pyarrow, about 100 MB: not in the core install) and
        # `ccimg select --parquet` (duckdb, surt)
        "parquet": ["duckdb>=1.1", "pyarrow>=15", "surt>=0.3"],
        # running the training notebook: papermill (with parameters) or `jupyter nbconvert --execute`
        "notebook": ["papermill>=2.6", "nbconvert>=7", "ipykernel>=6.29", "matplotlib>=3.8"],
        "fast": ["fastwarc>=2.0", "resiliparse>=2.0"],
        "dev": [
            "pytest>=8",
            "lxml>=5",
            "psutil>=5.9",
            "pytest-timeout>=2.3",
            "hypothesis>=6.100",
            "moto[server]>=5.0",
            "rangehttpserver>=1.4",
            "pywb>=2.8",
            "responses>=0.25",
            "nbclient>=0.10",
            "nbformat>=5.9",
            "ipykernel>=6.29",
            "papermill>=2.6",
            "nbconvert>=7",
            "duckdb>=1.1",
            "pyarrow>=15",
            "surt>=0.3",
            "fastwarc>=2.0",
            "resiliparse>=2.0",
            "ruff>=0.5",
            "matplotlib>=3.8",
            "pillow>=10",
            "cryptography>=41",
            "websocket-client>=1.6",
        ],
    },
    entry_points={"console_scripts": ["ccimg = ccimg.cli:main"]},
)
