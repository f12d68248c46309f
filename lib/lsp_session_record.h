// LspSessionRecord: what a relay remembers of an editor's LSP session so that it can rebuild the
// session on a new server — the initialize parameters, the configuration, the workspace folders
// and every open document with its unsaved text.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/lsp_text_document.h"
#include "lib/result.h"

namespace wslgo {

struct RecordedDocument {
  std::string languageId;
  int64_t version = 0;
  std::string text;
};

class LspSessionRecord {
 public:
  // Documents are kept up to this many bytes in all; past it the newest document is forgotten
  // (and a new server reads it from disk), never the session.
  explicit LspSessionRecord(size_t maxDocumentBytes) : maxDocumentBytes_(maxDocumentBytes) {}

  void setInitializeParams(nlohmann::json params) { initializeParams_ = std::move(params); }
  const nlohmann::json& initializeParams() const { return initializeParams_; }
  // The initialize parameters for a new server: the first ones, with the workspace folders as
  // they are now.
  nlohmann::json replayInitializeParams() const;

  // The editor's own client capabilities, as initialize declared them.
  bool editorHasWorkDoneProgress() const;

  void setPositionEncoding(PositionEncoding encoding) { encoding_ = encoding; }
  PositionEncoding positionEncoding() const { return encoding_; }

  void noteInitialized() { initialized_ = true; }
  bool initialized() const { return initialized_; }
  void setTrace(std::string value) { trace_ = std::move(value); }
  void setSettings(nlohmann::json params);

  // workspace/didChangeWorkspaceFolders.
  Result<void> changeFolders(const nlohmann::json& params);

  // textDocument/didOpen, didChange, didClose. An error names the document and what was wrong;
  // the document is then forgotten (a new server reads it from disk) rather than replayed wrong.
  Result<void> openDocument(const nlohmann::json& params);
  Result<void> changeDocument(const nlohmann::json& params);
  void closeDocument(const nlohmann::json& params);
  const std::map<std::string, RecordedDocument>& documents() const { return documents_; }
  size_t documentBytes() const { return documentBytes_; }

  // Answers to workspace/configuration, by the exact items asked. A didChangeConfiguration
  // forgets them all: the editor's settings changed, and a new answer must be asked for.
  std::optional<nlohmann::json> configurationAnswer(const nlohmann::json& params) const;
  void rememberConfiguration(const nlohmann::json& params, nlohmann::json result);

  // The notifications that bring a server that has just answered initialize to where the
  // editor's session is: initialized, $/setTrace, didChangeConfiguration, a didOpen per
  // document with its current text and version.
  std::vector<nlohmann::json> replayNotifications() const;

 private:
  Result<void> store(const std::string& uri, RecordedDocument document);
  void forget(const std::string& uri);

  size_t maxDocumentBytes_;
  nlohmann::json initializeParams_ = nlohmann::json::object();
  PositionEncoding encoding_ = PositionEncoding::Utf16;
  bool initialized_ = false;
  std::optional<std::string> trace_;
  std::optional<nlohmann::json> settings_;
  std::optional<nlohmann::json> folders_;  // set once a folder change arrived
  std::map<std::string, RecordedDocument> documents_;
  size_t documentBytes_ = 0;
  std::map<std::string, nlohmann::json> configuration_;
};

}  // namespace wslgo
