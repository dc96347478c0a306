// File: services/scorer/console/assets.h
//
// The console's web files (services/scorer/console/web/), compiled into the
// binary by a genrule (embed_assets.py), so the scorer serves them with no
// file at run time and no CDN.
//
//   const Asset* asset = FindAsset("/app.js");
//   if (asset != nullptr) Send(asset->content_type, asset->data);
#ifndef GEORISK_SERVICES_SCORER_CONSOLE_ASSETS_H_
#define GEORISK_SERVICES_SCORER_CONSOLE_ASSETS_H_

#include <string_view>

namespace georisk::scorer::console {

struct Asset {
  std::string_view path;          // "/index.html": "/" and the file's name.
  std::string_view content_type;  // "text/html; charset=utf-8".
  std::string_view data;          // The file's bytes.
};

// The asset served at `path`, or nullptr. Thread-safe (constant data).
const Asset* FindAsset(std::string_view path);

}  // namespace georisk::scorer::console

#endif  // GEORISK_SERVICES_SCORER_CONSOLE_ASSETS_H_
