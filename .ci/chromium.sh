# Sourced by .ci/run (bash, as root): Debian's headless Chromium and its ChromeDriver for the
# `browser` tests (tests/browser), which in CI fail rather than skip without them.
# By hand: `source .ci/chromium.sh`.

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    { apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } \
        > /tmp/afterhours-chromium-install.txt 2>&1 \
        || { echo "Chromium install failed:"; tail -20 /tmp/afterhours-chromium-install.txt;
             exit 1; }
fi
echo "browser: $(/usr/bin/chromedriver --version 2>/dev/null | cut -d' ' -f1-2)"
