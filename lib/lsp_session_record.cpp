#include "lib/lsp_session_record.h"

#include <algorithm>

#include "lib/jsonrpc_message.h"

namespace wslgo {
namespace {

using nlohmann::json;

const json* field(const json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto found = object.find(name);
  return found == object.end() ? nullptr : &*found;
}

std::optional<std::string> stringField(const json& object, const char* name) {
  const json* value = field(object, name);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return value->get<std::string>();
}

// The uri of params.textDocument, or an error saying what the message lacked.
Result<std::string> documentUri(const json& params, std::string_view method) {
  const json* document = field(params, "textDocument");
  auto uri = document != nullptr ? stringField(*document, "uri") : std::nullopt;
  if (!uri) {
    return parseError(std::string(method), "no textDocument.uri in the parameters");
  }
  return *uri;
}

}  // namespace

json LspSessionRecord::replayInitializeParams() const {
  json params = initializeParams_;
  if (folders_ && params.is_object()) params["workspaceFolders"] = *folders_;
  return params;
}

bool LspSessionRecord::editorHasWorkDoneProgress() const {
  const json* capabilities = field(initializeParams_, "capabilities");
  const json* window = capabilities != nullptr ? field(*capabilities, "window") : nullptr;
  const json* progress = window != nullptr ? field(*window, "workDoneProgress") : nullptr;
  return progress != nullptr && progress->is_boolean() && progress->get<bool>();
}

void LspSessionRecord::setSettings(json params) {
  settings_ = std::move(params);
  configuration_.clear();
}

Result<void> LspSessionRecord::changeFolders(const json& params) {
  const json* event = field(params, "event");
  if (event == nullptr || !event->is_object()) {
    return parseError("workspace/didChangeWorkspaceFolders", "no event in the parameters");
  }
  json folders = folders_ ? *folders_ : json::array();
  if (!folders_) {
    if (const json* initial = field(initializeParams_, "workspaceFolders");
        initial != nullptr && initial->is_array()) {
      folders = *initial;
    }
  }
  auto sameUri = [](const json& a, const json& b) {
    return a.is_object() && b.is_object() && a.value("uri", json()) == b.value("uri", json());
  };
  if (const json* removed = field(*event, "removed"); removed != nullptr && removed->is_array()) {
    for (const json& gone : *removed) {
      auto end = std::remove_if(folders.begin(), folders.end(),
                                [&](const json& folder) { return sameUri(folder, gone); });
      folders.erase(end, folders.end());
    }
  }
  if (const json* added = field(*event, "added"); added != nullptr && added->is_array()) {
    for (const json& folder : *added) {
      if (std::none_of(folders.begin(), folders.end(),
                       [&](const json& known) { return sameUri(known, folder); })) {
        folders.push_back(folder);
      }
    }
  }
  folders_ = std::move(folders);
  return {};
}

Result<void> LspSessionRecord::openDocument(const json& params) {
  auto uri = documentUri(params, "textDocument/didOpen");
  if (!uri) return uri.error();
  const json& document = params["textDocument"];
  auto text = stringField(document, "text");
  const json* version = field(document, "version");
  if (!text || version == nullptr || !version->is_number_integer()) {
    forget(*uri);
    return parseError(*uri, "didOpen without a text or an integer version");
  }
  RecordedDocument recorded{.languageId = stringField(document, "languageId").value_or("go"),
                            .version = version->get<int64_t>(),
                            .text = std::move(*text)};
  return store(*uri, std::move(recorded));
}

Result<void> LspSessionRecord::changeDocument(const json& params) {
  auto uri = documentUri(params, "textDocument/didChange");
  if (!uri) return uri.error();
  auto found = documents_.find(*uri);
  if (found == documents_.end()) {
    return parseError(*uri, "didChange of a document that is not open (or was forgotten)");
  }
  const json* version = field(params["textDocument"], "version");
  const json* changes = field(params, "contentChanges");
  auto parsed =
      changes != nullptr
          ? parseContentChanges(*changes)
          : Result<std::vector<TextChange>>(parseError(*uri, "didChange without contentChanges"));
  Result<void> applied = parsed ? applyTextChanges(found->second.text, *parsed, encoding_)
                                : Result<void>(parsed.error());
  if (!applied) {
    forget(*uri);
    return applied.error().withPath(*uri);
  }
  if (version != nullptr && version->is_number_integer()) {
    found->second.version = version->get<int64_t>();
  }
  // Recount: the edit may have grown the text past the bound.
  RecordedDocument document = std::move(found->second);
  forget(*uri);
  return store(*uri, std::move(document));
}

void LspSessionRecord::closeDocument(const json& params) {
  if (auto uri = documentUri(params, "textDocument/didClose")) forget(*uri);
}

Result<void> LspSessionRecord::store(const std::string& uri, RecordedDocument document) {
  forget(uri);
  if (documentBytes_ + document.text.size() > maxDocumentBytes_) {
    return parseError(uri, "not kept for a gopls restart: the open documents would pass " +
                               std::to_string(maxDocumentBytes_ >> 20) +
                               " MiB; a new gopls reads it from disk");
  }
  documentBytes_ += document.text.size();
  documents_[uri] = std::move(document);
  return {};
}

void LspSessionRecord::forget(const std::string& uri) {
  auto found = documents_.find(uri);
  if (found == documents_.end()) return;
  documentBytes_ -= found->second.text.size();
  documents_.erase(found);
}

std::optional<json> LspSessionRecord::configurationAnswer(const json& params) const {
  auto found = configuration_.find(rpcText(params));
  if (found == configuration_.end()) return std::nullopt;
  return found->second;
}

void LspSessionRecord::rememberConfiguration(const json& params, json result) {
  configuration_[rpcText(params)] = std::move(result);
}

std::vector<json> LspSessionRecord::replayNotifications() const {
  std::vector<json> out;
  if (initialized_) out.push_back(rpcNotification("initialized", json::object()));
  if (trace_) out.push_back(rpcNotification("$/setTrace", {{"value", *trace_}}));
  if (settings_) out.push_back(rpcNotification("workspace/didChangeConfiguration", *settings_));
  for (const auto& [uri, document] : documents_) {
    out.push_back(rpcNotification("textDocument/didOpen", {{"textDocument",
                                                            {{"uri", uri},
                                                             {"languageId", document.languageId},
                                                             {"version", document.version},
                                                             {"text", document.text}}}}));
  }
  return out;
}

}  // namespace wslgo
