// libgit2 (Debian libgit2-dev 1.5) for Swift. Variadic and macro APIs get typed wrappers here.
#ifndef IMAGEBUMP_CLIBGIT2_SHIM_H
#define IMAGEBUMP_CLIBGIT2_SHIM_H

#include <git2.h>

/// git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, path): the CA bundle for HTTPS.
static inline int imagebump_git_set_ssl_cert_locations(const char *file, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, file, path);
}

/// git_libgit2_opts(GIT_OPT_SET_USER_AGENT, agent).
static inline int imagebump_git_set_user_agent(const char *agent) {
    return git_libgit2_opts(GIT_OPT_SET_USER_AGENT, agent);
}

/// git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, enabled).
static inline int imagebump_git_set_strict_hash_verification(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, enabled);
}

#endif
