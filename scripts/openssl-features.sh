# Sourced by scripts/test.sh and scripts/demo.sh. SQLCipher (the encrypted
# SQLite store) needs OpenSSL's libcrypto. When the system has its headers
# (Debian `libssl-dev`), link that one; otherwise build OpenSSL from source
# (the `vendored-openssl` feature, crates.io `openssl-src`: needs perl and
# make, adds a few minutes to the first build). Sets CONCORD_FEATURES.
if echo '#include <openssl/crypto.h>' | "${CC:-cc}" -E - >/dev/null 2>&1; then
    CONCORD_FEATURES=""
else
    echo "note: OpenSSL headers not found (libssl-dev); building OpenSSL from source for SQLCipher" >&2
    CONCORD_FEATURES="--features concord/vendored-openssl"
fi
