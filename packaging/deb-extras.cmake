# Run by cpack for the DEB generator (CPACK_PRE_BUILD_SCRIPTS) over the staging tree that
# `cmake --install` filled: adds what only a Debian package has. A plain install under ~/.local
# must not write to /etc, so none of this is an install() rule.
set(root "${CPACK_TEMPORARY_DIRECTORY}")
if(NOT IS_DIRECTORY "${root}/usr/bin")
  message(FATAL_ERROR "wslgo-guard: no staging tree at ${root} (CPACK_TEMPORARY_DIRECTORY)")
endif()
set(docdir "${root}/${WSLGO_PACKAGE_DOCDIR}")
set(regular OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# The conffile: a commented example that changes nothing until an administrator edits it.
file(COPY "${WSLGO_PACKAGING_DIR}/config.json" DESTINATION "${root}/etc/wslgo-guard"
     FILE_PERMISSIONS ${regular})

file(COPY "${WSLGO_PACKAGING_DIR}/debian/copyright" DESTINATION "${docdir}"
     FILE_PERMISSIONS ${regular})

# The changelog must describe the version being packaged; a stale one is a mistake to stop at.
file(STRINGS "${WSLGO_PACKAGING_DIR}/debian/changelog" first LIMIT_COUNT 1)
if(NOT first MATCHES "^wslgo-guard \\(${WSLGO_PACKAGE_FULL_VERSION}\\) ")
  message(FATAL_ERROR
    "wslgo-guard: packaging/debian/changelog starts with \"${first}\", not with version "
    "${WSLGO_PACKAGE_FULL_VERSION}; add a stanza for it (packaging/README.md)")
endif()
# -n: no name or time stamp inside, so the same changelog gives the same bytes.
execute_process(COMMAND gzip -9nc INPUT_FILE "${WSLGO_PACKAGING_DIR}/debian/changelog"
                OUTPUT_FILE "${docdir}/changelog.Debian.gz" RESULT_VARIABLE failed)
if(failed)
  message(FATAL_ERROR "wslgo-guard: gzip of the changelog failed")
endif()

# CPACK_STRIP_FILES took the debug sections; dh_strip also drops the compiler's .comment and the
# .note section, which no one reads at run time.
file(GLOB binaries "${root}/usr/bin/*" "${root}/usr/libexec/wslgo-guard/*")
foreach(binary IN LISTS binaries)
  execute_process(COMMAND strip --remove-section=.comment --remove-section=.note "${binary}"
                  RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "wslgo-guard: strip ${binary} failed")
  endif()
endforeach()

# Debian ships man pages compressed (policy 12.1); the tree installs them as scdoc wrote them.
file(GLOB pages "${root}/${WSLGO_PACKAGE_MANDIR}/man*/*.[0-9]")
foreach(page IN LISTS pages)
  execute_process(COMMAND gzip -9nf "${page}" RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "wslgo-guard: gzip ${page} failed")
  endif()
endforeach()
