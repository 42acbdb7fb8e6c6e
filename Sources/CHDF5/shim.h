#ifndef LATENTLENS_CHDF5_SHIM_H
#define LATENTLENS_CHDF5_SHIM_H

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

// HDF5 exposes its predefined types and property-list classes through macros that expand
// to global ids after an implicit H5open(); Swift cannot import those, so they are
// re-exported here as functions. The helpers below also paper over API differences
// between HDF5 1.10 and 1.12+.

// MARK: Predefined datatypes

static inline hid_t lens_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t lens_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t lens_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t lens_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t lens_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t lens_H5T_C_S1(void) { return H5T_C_S1; }

// MARK: File access flags

static inline unsigned lens_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned lens_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }
static inline unsigned lens_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned lens_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }

// MARK: Property lists, dataspaces, error stacks

static inline hid_t lens_H5P_DEFAULT(void) { return H5P_DEFAULT; }
static inline hid_t lens_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t lens_H5P_DATASET_ACCESS(void) { return H5P_DATASET_ACCESS; }
static inline size_t lens_H5D_CHUNK_CACHE_NSLOTS_DEFAULT(void) { return H5D_CHUNK_CACHE_NSLOTS_DEFAULT; }
static inline hid_t lens_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t lens_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }
static inline hid_t lens_H5S_ALL(void) { return H5S_ALL; }
static inline hsize_t lens_H5S_UNLIMITED(void) { return H5S_UNLIMITED; }
static inline hid_t lens_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline size_t lens_H5T_VARIABLE(void) { return H5T_VARIABLE; }

// MARK: Errors

/// Turns off HDF5's automatic printing of error stacks for the calling thread.
/// In thread-safe builds the setting lives in a per-thread error stack, so it is
/// applied once per thread (the flag is thread-local).
static inline void lens_H5_silence_errors(void) {
    static _Thread_local int silenced = 0;
    static int atexit_disabled = 0;
    if (!atexit_disabled) {
        /* HDF5's exit-time cleanup closes files left open; after a failed write (disk full) that
           close dereferences freed state and crashes. Files are closed explicitly instead. */
        H5dont_atexit();
        atexit_disabled = 1;
    }
    if (!silenced) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        silenced = 1;
    }
}

typedef struct {
    char *buffer;
    size_t capacity;
    int found;
} lens_H5_error_walk_t;

static inline herr_t lens_H5_error_walk_cb(unsigned n, const H5E_error2_t *err, void *data) {
    (void)n;
    lens_H5_error_walk_t *walk = (lens_H5_error_walk_t *)data;
    if (walk->found || err == NULL) return 0;
    const char *text = err->desc;
    char minor[256];
    if (text == NULL || text[0] == '\0') {
        // No description: fall back to the minor error message ("Object not found", ...).
        H5E_type_t type;
        if (H5Eget_msg(err->min_num, &type, minor, sizeof minor) > 0) {
            text = minor;
        }
    }
    if (text != NULL && text[0] != '\0') {
        strncpy(walk->buffer, text, walk->capacity - 1);
        walk->buffer[walk->capacity - 1] = '\0';
        walk->found = 1;
    }
    return 0;
}

/// Copies the description of the innermost (most specific) entry of the calling
/// thread's error stack into `buffer`, then clears the stack. Returns the length of
/// the message, or 0 when the stack was empty.
static inline size_t lens_H5_error_message(char *buffer, size_t capacity) {
    if (buffer == NULL || capacity == 0) return 0;
    buffer[0] = '\0';
    lens_H5_error_walk_t walk = { buffer, capacity, 0 };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, lens_H5_error_walk_cb, &walk);
    H5Eclear2(H5E_DEFAULT);
    return strlen(buffer);
}

/// Clears the calling thread's error stack (after an expected failure).
static inline void lens_H5_clear_errors(void) { H5Eclear2(H5E_DEFAULT); }

// MARK: Objects

/// The type of the object `name` names relative to `loc` (H5O_TYPE_GROUP, H5O_TYPE_DATASET,
/// ...), or -1 when it cannot be resolved.
static inline int lens_H5_object_type(hid_t loc, const char *name) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info_by_name3(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
#else
    H5O_info_t info;
    if (H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
#endif
    return (int)info.type;
}

/// The number of attributes attached to the object `obj`, or -1 on failure.
static inline long long lens_H5_attribute_count(hid_t obj) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info3(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
#else
    H5O_info_t info;
    if (H5Oget_info2(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
#endif
    return (long long)info.num_attrs;
}

/// Frees the variable-length data HDF5 allocated while reading into `buffer`.
static inline herr_t lens_H5_reclaim(hid_t type, hid_t space, void *buffer) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(type, space, H5P_DEFAULT, buffer);
#else
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer);
#endif
}

// MARK: Variable-length strings without libhdf5's global-heap reader

/// Tag of the opaque type that receives the raw on-disk references of variable-length strings.
#define LENS_RAW_VLEN_TAG "latentlens.raw-vlen-reference"
/// Size of that opaque type: a reference is 4 (length) + address + 4 (index) bytes.
#define LENS_RAW_VLEN_SIZE 32

/// A soft conversion from a variable-length string to the tagged opaque type that copies each
/// element's on-disk reference (length, collection address, object index) unchanged, so the
/// caller can check it and read the string itself: libhdf5 1.10 trusts those fields and a
/// corrupted one makes it read out of bounds (see Sources/HDF5/GlobalHeapCheck.swift).
static inline herr_t lens_raw_vlen_conv(hid_t src_id, hid_t dst_id, H5T_cdata_t *cdata, size_t nelmts,
                                        size_t buf_stride, size_t bkg_stride, void *buf, void *bkg, hid_t dxpl) {
    (void)bkg_stride; (void)bkg; (void)dxpl;
    switch (cdata->command) {
    case H5T_CONV_INIT: {
        if (H5Tget_class(dst_id) != H5T_OPAQUE || H5Tis_variable_str(src_id) <= 0) return -1;
        char *tag = H5Tget_tag(dst_id);
        int ours = tag != NULL && strcmp(tag, LENS_RAW_VLEN_TAG) == 0;
        if (tag != NULL) H5free_memory(tag);
        if (!ours) return -1;
        cdata->need_bkg = H5T_BKG_NO;
        return 0;
    }
    case H5T_CONV_FREE:
        return 0;
    case H5T_CONV_CONV: {
        size_t source = H5Tget_size(src_id), target = H5Tget_size(dst_id);
        if (buf_stride != 0 || source == 0 || source > target || buf == NULL) return -1;
        unsigned char *bytes = (unsigned char *)buf;
        for (size_t i = nelmts; i-- > 0;) {
            memmove(bytes + i * target, bytes + i * source, source);
            memset(bytes + i * target + source, 0, target - source);
        }
        return 0;
    }
    default:
        return -1;
    }
}

/// Registers `lens_raw_vlen_conv` (once per process).
static inline herr_t lens_register_raw_vlen(void) {
    static int registered = 0;
    if (registered) return 0;
    hid_t string = H5Tcopy(H5T_C_S1);
    hid_t opaque = H5Tcreate(H5T_OPAQUE, LENS_RAW_VLEN_SIZE);
    herr_t status = -1;
    if (string >= 0 && opaque >= 0 && H5Tset_size(string, H5T_VARIABLE) >= 0 && H5Tset_tag(opaque, LENS_RAW_VLEN_TAG) >= 0) {
        status = H5Tregister(H5T_PERS_SOFT, "latentlens raw vlen", string, opaque, lens_raw_vlen_conv);
    }
    if (string >= 0) H5Tclose(string);
    if (opaque >= 0) H5Tclose(opaque);
    if (status >= 0) registered = 1;
    return status;
}

/// A new opaque type that `lens_raw_vlen_conv` converts variable-length strings into.
static inline hid_t lens_raw_vlen_type(void) {
    if (lens_register_raw_vlen() < 0) return -1;
    hid_t opaque = H5Tcreate(H5T_OPAQUE, LENS_RAW_VLEN_SIZE);
    if (opaque >= 0 && H5Tset_tag(opaque, LENS_RAW_VLEN_TAG) < 0) { H5Tclose(opaque); return -1; }
    return opaque;
}

/// The file's address width and base (its user block): where a collection address points.
static inline int lens_H5_address_layout(hid_t file, size_t *address_size, unsigned long long *base) {
    hid_t plist = H5Fget_create_plist(file);
    if (plist < 0) return -1;
    size_t size_of_size = 0;
    hsize_t userblock = 0;
    int ok = H5Pget_sizes(plist, address_size, &size_of_size) >= 0 && H5Pget_userblock(plist, &userblock) >= 0;
    H5Pclose(plist);
    *base = (unsigned long long)userblock;
    return ok ? 0 : -1;
}

#endif
