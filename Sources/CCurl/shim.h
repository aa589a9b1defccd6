// libcurl (Debian libcurl4-openssl-dev 7.88) for Swift: typed wrappers for the variadic
// curl_easy_setopt / curl_easy_getinfo.
#ifndef IMAGEBUMP_CCURL_SHIM_H
#define IMAGEBUMP_CCURL_SHIM_H

#include <curl/curl.h>

typedef size_t (*imagebump_curl_data_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode imagebump_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode imagebump_curl_set_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode imagebump_curl_set_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode imagebump_curl_set_list(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode imagebump_curl_set_size(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode imagebump_curl_set_callback(CURL *handle, CURLoption option, imagebump_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}
static inline CURLcode imagebump_curl_get_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
