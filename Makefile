# styletrace: `make demo` and `make test` are all a newcomer needs.
VENV ?= .venv
PY := $(VENV)/bin/python
# without its dependencies: see pyproject.toml (the Dockerfile pins the same version)
WATERMARK_PACKAGE := invisible-watermark==0.2.0
STAMP := $(VENV)/.installed-stamp
DATA ?= benchmarks/.cache
# Debian packages the benchmark dev sets read; the fonts are listed again in benchmarks/fonts.py.
FONT_PACKAGES := \
    fonts-3270 fonts-adf-accanthis fonts-adf-baskervald fonts-adf-berenis fonts-adf-gillius \
    fonts-adf-ikarius fonts-adf-irianis fonts-adf-libris fonts-adf-mekanus fonts-adf-oldania \
    fonts-adf-romande fonts-adf-solothurn fonts-adf-switzera fonts-adf-tribun \
    fonts-adf-universalis fonts-adf-verana fonts-agave fonts-allerta fonts-amiga \
    fonts-anonymous-pro fonts-apropal fonts-arapey fonts-averia-gwf fonts-averia-sans-gwf \
    fonts-averia-serif-gwf fonts-b612 fonts-bajaderka fonts-bebas-neue fonts-beteckna \
    fonts-blankenburg fonts-breip fonts-bwht fonts-cabin fonts-cabinsketch fonts-cantarell \
    fonts-cardo fonts-century-catalogue fonts-cherrybomb fonts-clear-sans fonts-cmu \
    fonts-comfortaa fonts-comic-neue fonts-compagnon fonts-courier-prime fonts-crosextra-caladea \
    fonts-crosextra-carlito fonts-dancingscript fonts-dejavu-core fonts-dkg-handwriting \
    fonts-dosis fonts-dustin fonts-ebgaramond fonts-ecolier-court fonts-elstob fonts-engadget \
    fonts-essays1743 fonts-eurofurence fonts-f500 fonts-fantasma fonts-fantasque-sans \
    fonts-fanwood fonts-femkeklaver fonts-ferrite-core fonts-firacode fonts-freefont-ttf \
    fonts-gamaliel fonts-gfs-didot fonts-gfs-neohellenic fonts-gnutypewriter fonts-go \
    fonts-gotico-antiqua fonts-goudybookletter fonts-hack fonts-havana fonts-hermit \
    fonts-humor-sans fonts-inconsolata fonts-inter fonts-isabella fonts-jetbrains-mono \
    fonts-joscelyn fonts-junction fonts-junicode fonts-jura fonts-karla fonts-kaushanscript \
    fonts-klaudia-berenika fonts-kristi fonts-lato fonts-le-murmure fonts-league-mono \
    fonts-league-spartan fonts-leckerli-one fonts-liberation2 fonts-lindenhill \
    fonts-linuxlibertine fonts-lobstertwo fonts-manrope fonts-millimetre fonts-monofur \
    fonts-mononoki fonts-national-park fonts-ocr-a fonts-ocr-b fonts-okolaks fonts-oldstandard \
    fonts-open-sans fonts-opendin fonts-opendyslexic fonts-oxygen fonts-play fonts-prociono \
    fonts-quattrocento fonts-quicksand fonts-radisnoir fonts-rampart fonts-roadgeek \
    fonts-roboto-slab fonts-roboto-unhinted fonts-rocknroll fonts-routed-gothic fonts-rufscript \
    fonts-sil-andika fonts-sil-charis fonts-sil-gentium fonts-sixtyfour fonts-sjfonts \
    fonts-solide-mirage fonts-sora fonts-staypuft fonts-stick fonts-stix fonts-summersby \
    fonts-tiresias fonts-tomsontalks fonts-train fonts-triod-postnaja fonts-tuffy \
    fonts-urw-base35 fonts-vollkorn fonts-yanone-kaffeesatz
DEV_DATA_PACKAGES := openclipart-svg openclipart-png librsvg2-bin \
    tuxpaint-stamps-default gnome-backgrounds mate-backgrounds gcompris-qt-data \
    $(FONT_PACKAGES)

.PHONY: install demo test lint typecheck unit fuzz browser bench bench-accuracy bench-speed bench-perf bench-soak bench-watermark calibrate train-style train-content dev-data dev-data-packages clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) -m pip install --quiet --no-deps $(WATERMARK_PACKAGE)
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/styletrace demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/hadolint Dockerfile

typecheck: install
	$(VENV)/bin/mypy

# Debian's chromium for the browser tests (tests/web drive it through Playwright; no browser is
# ever downloaded). A no-op where one is installed; where none can be (not root, no apt-get)
# the browser tests skip and say what to install.
browser:
	@if [ -n "$$CHROMIUM" ] || command -v chromium >/dev/null 2>&1 \
	    || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update && apt-get install -y --no-install-recommends chromium; \
	else echo "no chromium: the browser tests will skip (as root: apt-get install chromium)"; fi

unit: install browser
	$(PY) -m pytest -q

test: lint typecheck unit

# Longer than `make test`'s few examples: schemathesis over every operation, fitting and
# breaking the schema, FUZZ_EXAMPLES each (deterministic), then the hostile-input corpus.
FUZZ_EXAMPLES ?= 300
fuzz: install
	STYLETRACE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) HYPOTHESIS_PROFILE=explore $(PY) -m pytest -q -p no:cacheprovider tests/hostile tests/models/test_images_properties.py tests/indexer/test_ids_properties.py

dev-data: install
	$(PY) -m benchmarks.openclipart --cache $(DATA)
	$(PY) -m benchmarks.fonts --cache $(DATA)

# As root, once per machine: every Debian package `make dev-data` reads.
dev-data-packages:
	apt-get update
	apt-get install -y --no-install-recommends $(DEV_DATA_PACKAGES)

train-style: install
	$(PY) -m benchmarks.train_heads --head style --cache $(DATA)

train-content: install
	$(PY) -m benchmarks.train_heads --head content --cache $(DATA)

calibrate: install
	$(PY) -m benchmarks.calibrate --cache $(DATA)

bench-accuracy: install
	$(PY) -m benchmarks.accuracy --cache $(DATA)

bench-speed: install
	$(PY) -m benchmarks.speed --cache $(DATA)

# Issue 6: performance at scale -> benchmarks/PERF.md: scan throughput and stages, the vector
# index at 10k-1M vectors and 10M with PQ (10 GB of disk under /tmp), the API under load.
bench-perf: bench-speed
	$(PY) -m benchmarks.index_scale --sizes 10000 100000 1000000
	$(PY) -m benchmarks.index_pq --size 10000000 --workdir /tmp
	$(PY) -m benchmarks.load --works 10000 100000 --users 8 96 --seconds 120

bench-soak: install
	$(PY) -m benchmarks.load --works 10000 --seconds 600 --section soak

# Issue 10: watermark quality, robustness, false detections and cost -> benchmarks/WATERMARK.md
bench-watermark: install
	$(PY) -m benchmarks.watermark

bench: bench-accuracy bench-perf

clean:
	rm -rf $(VENV) data
