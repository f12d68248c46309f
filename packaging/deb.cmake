# The Debian package and the source tarball (packaging/README.md):
#   cmake -S . -B build-deb -G Ninja -DCMAKE_INSTALL_PREFIX=/usr -DWSLGO_BUILD_TESTS=OFF
#   cmake --build build-deb && cpack --config build-deb/CPackConfig.cmake -G DEB
#   cpack --config build-deb/CPackSourceConfig.cmake          # wslgo-guard-<version>.tar.gz
#
# The package holds what `cmake --install` installs for the prefix /usr, plus what only a
# package has (packaging/deb-extras.cmake): /etc/wslgo-guard/config.json, the changelog, the
# copyright file, compressed man pages.

set(WSLGO_PACKAGE_MAINTAINER "wslgo-guard maintainers <maintainers@wslgo-guard.invalid>"
    CACHE STRING "The Maintainer field of the Debian package")
# The Debian revision: bump it for a package of the same upstream version (and add a stanza to
# packaging/debian/changelog, which must name <version>-<revision> in its first line).
set(WSLGO_PACKAGE_REVISION 1 CACHE STRING
    "The Debian revision of the package (<version>-<revision>)")

set(CPACK_PACKAGE_NAME wslgo-guard)
set(CPACK_PACKAGE_VENDOR "wslgo-guard")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${WSLGO_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "keeps gopls from taking the machine's memory, one workspace at a time")
set(CPACK_GENERATOR DEB)
# Values reach CPackConfig.cmake as written here (regular expressions, the description's lines).
set(CPACK_VERBATIM_VARIABLES ON)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
# Binaries installed from a RelWithDebInfo tree carry their debug sections; a package does not.
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_PACKAGE_NAME wslgo-guard)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # wslgo-guard_<version>-<revision>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE ${WSLGO_PACKAGE_REVISION})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${WSLGO_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: the shared libraries (dpkg-shlibdeps) plus what the units need at run time: a user
# manager (systemd, whose busctl the reload runs) and a user bus for org.wslgo.Guard1.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd, dbus-user-session")
# Debian 12's gopls (0.5.0) works under the guard but is the one that needs it most; the
# description says where a current one comes from.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "gopls, golang-go")
# The synopsis is CPACK_PACKAGE_DESCRIPTION_SUMMARY; this is the extended description.
file(READ ${CMAKE_CURRENT_LIST_DIR}/debian/description CPACK_DEBIAN_PACKAGE_DESCRIPTION)
string(STRIP "${CPACK_DEBIAN_PACKAGE_DESCRIPTION}" CPACK_DEBIAN_PACKAGE_DESCRIPTION)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/debian/conffiles
    ${CMAKE_CURRENT_LIST_DIR}/debian/postinst
    ${CMAKE_CURRENT_LIST_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Read by cpack for every generator: for the DEB, the prefix /usr and the package's own files.
set(WSLGO_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})
set(WSLGO_PACKAGE_FULL_VERSION "${PROJECT_VERSION}-${WSLGO_PACKAGE_REVISION}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/cpack-project-config.cmake.in
               ${PROJECT_BINARY_DIR}/CPackProjectConfig.cmake @ONLY)
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_BINARY_DIR}/CPackProjectConfig.cmake)

# The source tarball: the tree as checked in, without build trees or version control.
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_PACKAGE_FILE_NAME "wslgo-guard-${PROJECT_VERSION}")
set(CPACK_SOURCE_IGNORE_FILES
    "/\\.git/" "/\\.git$" "/\\.cache/" "/build[^/]*/" "/_CPack_Packages/" "\\.deb$"
    "/__pycache__/" "\\.pyc$" "~$" "\\.swp$")

include(CPack)
