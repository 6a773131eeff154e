// SPDX-License-Identifier: Apache-2.0
// Reads a VBoxManage script (vboxmanage/create.sh, or a hand edit of it) back into the VM
// wiring it sets: a small shell lexer (quotes, expansions, line continuations, here-documents)
// splits it into commands, function bodies are skipped as machinery, and the data lines
// (`want VM KEY VALUE`, `share`, `hostonly`) and direct VBoxManage calls are replayed in order.
// Anything that could change the wiring but cannot be read is an error with its line:column.
#include <fmt/format.h>

#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "import/artifacts.h"
#include "spec/spec.h"
#include "util/atomic_file.h"

namespace bulkhead {

const char* AttachmentName(Attachment a) {
  switch (a) {
    case Attachment::kNone:
      return "none";
    case Attachment::kNat:
      return "nat";
    case Attachment::kBridged:
      return "bridged";
    case Attachment::kIntnet:
      return "intnet";
    case Attachment::kHostOnly:
      return "hostonly";
    case Attachment::kNatNetwork:
      return "natnetwork";
    case Attachment::kGeneric:
      return "generic";
  }
  return "none";
}

const VmWiring* Wiring::FindVm(std::string_view name) const {
  for (const VmWiring& vm : vms) {
    if (vm.name == name) return &vm;
  }
  return nullptr;
}

namespace {

// One shell word with its quotes removed. Expansions ($x, ${x}, $(...)) are kept as written
// and mark the word: its value is only known when the script runs.
struct Word {
  std::string text;
  SourceLoc loc;
  bool expanded = false;
};

using Command = std::vector<Word>;

class Lexer {
 public:
  Lexer(std::string_view text, const std::string& file, Diagnostics& diags)
      : text_(text), file_(file), diags_(diags) {}

  // The next non-empty command; false at the end of the text.
  bool Next(Command& command);

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  char Take();
  SourceLoc Here() const { return {line_, column_}; }
  void SkipBlanks();
  void SkipComment();
  void SkipRedirection(Command& command);
  void SkipHereDocuments();
  bool IsBreak(char c) const;
  void ReadWord(Word& word);
  void ReadSingle(Word& word);
  void ReadDouble(Word& word);
  void ReadExpansion(Word& word);
  void ReadBalanced(Word& word, char open, char close);
  // An unterminated quote swallows the rest of the text: nothing after it can be read.
  void Unterminated(SourceLoc loc, std::string message) {
    diags_.Error(file_, loc, std::move(message));
    pos_ = text_.size();
    broken_ = true;
  }

  std::string_view text_;
  const std::string& file_;
  Diagnostics& diags_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
  bool broken_ = false;
  std::vector<std::string> here_documents_;  // delimiters whose bodies start at the next line
};

char Lexer::Take() {
  char c = text_[pos_++];
  if (c == '\n') {
    ++line_;
    column_ = 1;
  } else {
    ++column_;
  }
  return c;
}

// Spaces, tabs and line continuations.
void Lexer::SkipBlanks() {
  while (!AtEnd()) {
    if (Peek() == ' ' || Peek() == '\t' || Peek() == '\r') {
      Take();
    } else if (Peek() == '\\' && Peek(1) == '\n') {
      Take();
      Take();
    } else {
      return;
    }
  }
}

void Lexer::SkipComment() {
  while (!AtEnd() && Peek() != '\n') Take();
}

bool Lexer::IsBreak(char c) const {
  return c == '\0' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '&' ||
         c == '|' || c == '<' || c == '>';
}

// `>file`, `2>&1`, `<<WORD`: dropped, with a file descriptor number written just before.
void Lexer::SkipRedirection(Command& command) {
  if (!command.empty() && !command.back().text.empty() &&
      command.back().text.find_first_not_of("0123456789") == std::string::npos &&
      command.back().loc.column + static_cast<int>(command.back().text.size()) == column_) {
    command.pop_back();
  }
  bool here = Peek() == '<' && Peek(1) == '<';
  while (Peek() == '<' || Peek() == '>' || Peek() == '&') Take();
  if (here && Peek() == '-') Take();
  SkipBlanks();
  Word target;
  if (!IsBreak(Peek())) ReadWord(target);
  if (here) here_documents_.push_back(target.text);
}

void Lexer::SkipHereDocuments() {
  for (const std::string& delimiter : here_documents_) {
    while (!AtEnd()) {
      size_t end = text_.find('\n', pos_);
      std::string_view line = text_.substr(pos_, end == std::string_view::npos ? end : end - pos_);
      while (!AtEnd() && Peek() != '\n') Take();
      if (!AtEnd()) Take();
      size_t indent = line.find_first_not_of('\t');
      if (indent != std::string_view::npos && line.substr(indent) == delimiter) break;
    }
  }
  here_documents_.clear();
}

bool Lexer::Next(Command& command) {
  command.clear();
  while (!AtEnd()) {
    SkipBlanks();
    char c = Peek();
    if (c == '\n') {
      Take();
      SkipHereDocuments();
      if (!command.empty()) return true;
    } else if (c == ';' || c == '&' || c == '|') {
      Take();
      if (!command.empty()) return true;
    } else if (c == '<' || c == '>') {
      SkipRedirection(command);
    } else if (c == '#') {
      SkipComment();
    } else if (c != '\0') {
      Word word;
      ReadWord(word);
      command.push_back(std::move(word));
    }
  }
  if (broken_) command.clear();
  return !command.empty();
}

void Lexer::ReadWord(Word& word) {
  word.loc = Here();
  while (!AtEnd() && !IsBreak(Peek())) {
    char c = Peek();
    if (c == '\'') {
      ReadSingle(word);
    } else if (c == '"') {
      ReadDouble(word);
    } else if (c == '$') {
      ReadExpansion(word);
    } else if (c == '\\') {
      Take();
      if (AtEnd()) break;
      char escaped = Take();
      if (escaped != '\n') word.text += escaped;
    } else {
      word.text += Take();
    }
  }
}

void Lexer::ReadSingle(Word& word) {
  SourceLoc start = Here();
  Take();
  while (!AtEnd() && Peek() != '\'') word.text += Take();
  if (AtEnd()) return Unterminated(start, "unterminated single quote");
  Take();
}

void Lexer::ReadDouble(Word& word) {
  SourceLoc start = Here();
  Take();
  while (!AtEnd() && Peek() != '"') {
    if (Peek() == '$') {
      ReadExpansion(word);
    } else if (Peek() == '\\' &&
               std::string_view("$`\"\\\n").find(Peek(1)) != std::string_view::npos) {
      Take();
      char escaped = Take();
      if (escaped != '\n') word.text += escaped;
    } else {
      word.text += Take();
    }
  }
  if (AtEnd()) return Unterminated(start, "unterminated double quote");
  Take();
}

void Lexer::ReadExpansion(Word& word) {
  word.text += Take();
  word.expanded = true;
  if (Peek() == '{') return ReadBalanced(word, '{', '}');
  if (Peek() == '(') return ReadBalanced(word, '(', ')');
  if (std::isalpha(static_cast<unsigned char>(Peek())) || Peek() == '_') {
    while (std::isalnum(static_cast<unsigned char>(Peek())) || Peek() == '_') word.text += Take();
  } else if (std::string_view("@*#?$!-0123456789").find(Peek()) != std::string_view::npos &&
             !AtEnd()) {
    word.text += Take();
  } else {
    word.expanded = false;  // a lone '$' is literal
  }
}

// Copies `${...}` or `$(...)` verbatim, quotes and nesting included.
void Lexer::ReadBalanced(Word& word, char open, char close) {
  SourceLoc start = Here();
  int depth = 0;
  while (!AtEnd()) {
    char c = Take();
    word.text += c;
    if (c == '\\' && !AtEnd()) {
      word.text += Take();
    } else if (c == '\'') {
      while (!AtEnd() && Peek() != '\'') word.text += Take();
      if (!AtEnd()) word.text += Take();
    } else if (c == open) {
      ++depth;
    } else if (c == close && --depth == 0) {
      return;
    }
  }
  Unterminated(start, fmt::format("unterminated '${}'", open));
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

bool IsFunctionStart(const Command& command) {
  std::string_view first = command[0].text;
  if (command.size() > 1 && command[1].text == "()") return IsIdentifier(first);
  return first.size() > 2 && first.substr(first.size() - 2) == "()" &&
         IsIdentifier(first.substr(0, first.size() - 2));
}

bool IsAssignment(const Word& word) {
  size_t eq = word.text.find('=');
  return eq != std::string::npos && IsIdentifier(std::string_view(word.text).substr(0, eq));
}

bool IsVBoxManage(const Word& word) {
  return word.text == "$VBM" || word.text == "${VBM}" || word.text == "VBoxManage" ||
         word.text == "$VBOXMANAGE" || word.text == "${VBOXMANAGE}";
}

// "intnet3" -> ("intnet", 3); no trailing number -> (key, 0).
std::pair<std::string, int> SplitIndex(std::string_view key) {
  size_t digits = key.find_last_not_of("0123456789") + 1;
  if (digits == key.size() || digits == 0 || key.size() - digits > 3) {
    return {std::string(key), 0};
  }
  return {std::string(key.substr(0, digits)), std::stoi(std::string(key.substr(digits)))};
}

std::optional<Attachment> ParseAttachment(std::string_view text) {
  static const std::map<std::string, Attachment, std::less<>> kNames = {
      {"none", Attachment::kNone},
      {"null", Attachment::kNone},
      {"nat", Attachment::kNat},
      {"bridged", Attachment::kBridged},
      {"intnet", Attachment::kIntnet},
      {"hostonly", Attachment::kHostOnly},
      {"hostonlynet", Attachment::kHostOnly},
      {"hostonlynetwork", Attachment::kHostOnly},
      {"natnetwork", Attachment::kNatNetwork},
      {"generic", Attachment::kGeneric},
      {"cloudnetwork", Attachment::kGeneric},
  };
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = kNames.find(lower);
  if (it == kNames.end()) return std::nullopt;
  return it->second;
}

// A MAC in VirtualBox spelling (12 upper-case hex digits); "" for "auto"; nullopt if invalid.
std::optional<std::string> ParseMac(std::string_view text) {
  if (text == "auto") return std::string();
  std::string mac;
  for (char c : text) {
    if (c == ':' || c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    mac += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (mac.size() != 12) return std::nullopt;
  return mac;
}

struct SlotState {
  Attachment attachment = Attachment::kNone;
  std::map<std::string, std::string> names;  // "intnet" -> "bh-web", "bridgeadapter" -> ...
  std::string mac;
  std::string type;
  bool cable_connected = true;
};

struct VmState {
  std::string name;
  std::map<int, SlotState> slots;
  std::string clipboard = "disabled";
  std::string drag_and_drop = "disabled";
  std::set<std::string> shares;
  bool vrde = false;
  bool audio = false;
};

class ScriptReader {
 public:
  ScriptReader(const std::string& file, Diagnostics& diags) : file_(file), diags_(diags) {}

  void Read(std::string_view text);
  void Fill(Wiring& wiring) const;

 private:
  void Dispatch(const Command& command);
  bool DataCommand(const Command& command);
  bool Arity(const Command& command, size_t count, std::string_view usage);
  bool Literal(const Word& word);
  VmState& Vm(const std::string& name);
  void Want(const Command& command);
  void Set(VmState& vm, const std::string& key, const Word& value, bool from_want);
  bool SetSlot(VmState& vm, const std::string& stem, int slot, const Word& value);
  void SetHostOnly(const Word& name, const Word& address, const Word& netmask);
  void VBoxManage(const Command& command);
  void ModifyVm(const Command& command);
  void SharedFolder(const Command& command);
  std::optional<std::string> OptionValue(const Command& command, std::string_view option);
  void Error(SourceLoc loc, std::string message) { diags_.Error(file_, loc, std::move(message)); }

  const std::string& file_;
  Diagnostics& diags_;
  std::vector<VmState> vms_;
  std::string hostonly_if_;
  Prefix hostonly_host_;
  bool exited_ = false;
};

void ScriptReader::Read(std::string_view text) {
  Lexer lexer(text, file_, diags_);
  Command command;
  int function_depth = 0;
  while (!exited_ && lexer.Next(command)) {
    // Function bodies are the script's machinery, not its settings.
    if (function_depth > 0 || IsFunctionStart(command)) {
      for (const Word& w : command) function_depth += w.text == "{" && !w.expanded;
      if (command[0].text == "}") --function_depth;
      continue;
    }
    Dispatch(command);
  }
}

void ScriptReader::Dispatch(const Command& command) {
  const Word& first = command[0];
  bool only_assignments = true;
  for (const Word& w : command) only_assignments = only_assignments && IsAssignment(w);
  if (only_assignments || first.text == "set" || first.text == ":") return;
  if (first.text == "exit") {
    exited_ = true;
    return;
  }
  if (IsVBoxManage(first)) return VBoxManage(command);
  if (!first.expanded && DataCommand(command)) return;
  Error(first.loc,
        fmt::format("cannot read command '{}' (not a setting this reader knows)", first.text));
}

bool ScriptReader::Literal(const Word& word) {
  if (!word.expanded) return true;
  Error(word.loc,
        fmt::format("cannot read '{}' (its value is only known when the script runs)", word.text));
  return false;
}

bool ScriptReader::Arity(const Command& command, size_t count, std::string_view usage) {
  if (command.size() != count + 1) {
    Error(command[0].loc, fmt::format("'{}' takes {} argument{} ({}), found {}", command[0].text,
                                      count, count == 1 ? "" : "s", usage, command.size() - 1));
    return false;
  }
  bool literal = true;
  for (size_t i = 1; i < command.size(); ++i) literal = Literal(command[i]) && literal;
  return literal;
}

VmState& ScriptReader::Vm(const std::string& name) {
  for (VmState& vm : vms_) {
    if (vm.name == name) return vm;
  }
  vms_.push_back(VmState{name});
  return vms_.back();
}

bool ScriptReader::DataCommand(const Command& command) {
  const std::string& verb = command[0].text;
  if (verb == "hostonly") {
    if (Arity(command, 3, "interface, host address, netmask")) {
      SetHostOnly(command[1], command[2], command[3]);
    }
  } else if (verb == "create") {
    if (Arity(command, 4, "VM, OS type, disk size, medium")) Vm(command[1].text);
  } else if (verb == "clone") {
    if (Arity(command, 2, "VM, template")) Vm(command[1].text);
  } else if (verb == "begin" || verb == "finish") {
    if (Arity(command, 1, "VM")) Vm(command[1].text);
  } else if (verb == "want") {
    if (Arity(command, 3, "VM, setting, value")) Want(command);
  } else if (verb == "share") {
    if (Arity(command, 4, "VM, name, host path, readonly or writable")) {
      Vm(command[1].text).shares.insert(command[2].text);
    }
  } else {
    return false;
  }
  return true;
}

// The settings `want` accepts, as the script's own `want` function does.
void ScriptReader::Want(const Command& command) {
  static const std::set<std::string, std::less<>> kPlain = {
      "cpus",        "memory", "chipset", "vrde", "clipboard",
      "draganddrop", "audio",  "usb",     "ehci", "xhci"};
  static const std::set<std::string, std::less<>> kIndexed = {
      "nic",           "intnet",         "nictype", "macaddress", "cableconnected",
      "bridgeadapter", "hostonlyadapter"};
  const std::string& key = command[2].text;
  auto [stem, slot] = SplitIndex(key);
  if (slot == 0 ? kPlain.count(key) == 0 : kIndexed.count(stem) == 0) {
    return Error(command[2].loc, fmt::format("unknown setting '{}'", key));
  }
  Set(Vm(command[1].text), key, command[3], /*from_want=*/true);
}

void ScriptReader::Set(VmState& vm, const std::string& key, const Word& value, bool from_want) {
  auto [stem, slot] = SplitIndex(key);
  if (slot != 0 && SetSlot(vm, stem, slot, value)) return;
  const std::string& v = value.text;
  static const std::set<std::string, std::less<>> kSharing = {"disabled", "hosttoguest",
                                                              "guesttohost", "bidirectional"};
  if (key == "clipboard" || key == "draganddrop") {
    if (kSharing.count(v) == 0) {
      return Error(value.loc, fmt::format("unknown {} mode '{}'", key, v));
    }
    (key == "clipboard" ? vm.clipboard : vm.drag_and_drop) = v;
  } else if (key == "vrde" || key == "audioenabled") {
    if (v != "on" && v != "off") {
      return Error(value.loc, fmt::format("'{}' must be 'on' or 'off', found '{}'", key, v));
    }
    (key == "vrde" ? vm.vrde : vm.audio) = v == "on";
  } else if (key == "audio") {
    // showvminfo (and `want`) name the driver, "none" when off; old modifyvm took "none" too.
    vm.audio = v != "none" && v != "null" && !(from_want && v == "off");
  }
}

// Adapter settings; false for keys that are not per-adapter settings the wiring keeps.
bool ScriptReader::SetSlot(VmState& vm, const std::string& stem, int slot, const Word& value) {
  static const std::set<std::string, std::less<>> kNames = {
      "intnet", "bridgeadapter", "hostonlyadapter", "natnetwork", "nicgenericdrv"};
  if (stem != "nic" && stem != "nictype" && stem != "macaddress" && stem != "cableconnected" &&
      kNames.count(stem) == 0) {
    return stem == "nicpromisc" || stem == "nicspeed";
  }
  if (slot < 1 || slot > MaxAdapters(Chipset::kIch9)) {
    Error(value.loc, fmt::format("adapter number {} out of range (1 to 36)", slot));
    return true;
  }
  SlotState& s = vm.slots[slot];
  const std::string& v = value.text;
  if (stem == "nic") {
    std::optional<Attachment> a = ParseAttachment(v);
    if (!a) Error(value.loc, fmt::format("unknown attachment '{}' for adapter {}", v, slot));
    if (a) s.attachment = *a;
  } else if (stem == "macaddress") {
    std::optional<std::string> mac = ParseMac(v);
    if (!mac) Error(value.loc, fmt::format("bad MAC address '{}' for adapter {}", v, slot));
    if (mac) s.mac = *mac;
  } else if (stem == "nictype") {
    s.type = v;
  } else if (stem == "cableconnected") {
    if (value.text != "on" && value.text != "off") {
      Error(value.loc,
            fmt::format("cable of adapter {} must be 'on' or 'off', found '{}'", slot, value.text));
    }
    s.cable_connected = value.text != "off";
  } else {
    s.names[stem] = value.text;
  }
  return true;
}

void ScriptReader::SetHostOnly(const Word& name, const Word& address, const Word& netmask) {
  std::optional<IpAddress> ip = IpAddress::Parse(address.text);
  std::optional<int> length = NetmaskLength(netmask.text);
  if (!ip || ip->family != Family::kV4) {
    Error(address.loc, fmt::format("bad host address '{}'", address.text));
  }
  if (!length) Error(netmask.loc, fmt::format("bad netmask '{}'", netmask.text));
  if (!ip || ip->family != Family::kV4 || !length) return;
  hostonly_if_ = name.text;
  hostonly_host_ = Prefix{*ip, *length};
}

// A value given as `--option value` or `--option=value`.
std::optional<std::string> ScriptReader::OptionValue(const Command& command,
                                                     std::string_view option) {
  for (size_t i = 0; i < command.size(); ++i) {
    const std::string& t = command[i].text;
    if (t == option && i + 1 < command.size() && Literal(command[i + 1])) {
      return command[i + 1].text;
    }
    if (t.size() > option.size() && t.compare(0, option.size(), option) == 0 &&
        t[option.size()] == '=') {
      return t.substr(option.size() + 1);
    }
  }
  return std::nullopt;
}

void ScriptReader::VBoxManage(const Command& command) {
  static const std::set<std::string, std::less<>> kHarmless = {
      "list",    "showvminfo", "storagectl", "storageattach", "createmedium", "createhd",
      "startvm", "--version",  "-v",         "snapshot",      "setextradata", "getextradata"};
  if (command.size() < 2 || !Literal(command[1])) return;
  const std::string& sub = command[1].text;
  if (sub == "modifyvm") return ModifyVm(command);
  if (sub == "sharedfolder") return SharedFolder(command);
  if (sub == "createvm" || sub == "clonevm") {
    if (std::optional<std::string> name = OptionValue(command, "--name")) Vm(*name);
    return;
  }
  if (sub == "hostonlyif" && command.size() >= 4 && command[2].text == "ipconfig") {
    std::optional<std::string> ip = OptionValue(command, "--ip");
    std::optional<std::string> mask = OptionValue(command, "--netmask");
    if (ip && mask) return SetHostOnly(command[3], {*ip, command[3].loc}, {*mask, command[3].loc});
  }
  if (sub == "hostonlyif" || kHarmless.count(sub) != 0) return;
  Error(command[1].loc, fmt::format("cannot read 'VBoxManage {}' (not a setting this reader "
                                    "knows)",
                                    sub));
}

// `modifyvm VM --opt value ...` in either spelling: --host-only-adapter2 and --hostonlyadapter2
// both become showvminfo's key "hostonlyadapter2".
void ScriptReader::ModifyVm(const Command& command) {
  if (command.size() < 3 || !Literal(command[2])) return;
  VmState& vm = Vm(command[2].text);
  for (size_t i = 3; i < command.size(); ++i) {
    std::string option = command[i].text;
    if (option.rfind("--", 0) != 0) {
      Error(command[i].loc, fmt::format("cannot read modifyvm argument '{}'", option));
      continue;
    }
    Word value{"", command[i].loc};
    if (size_t eq = option.find('='); eq != std::string::npos) {
      value.text = option.substr(eq + 1);
      option.resize(eq);
    } else if (i + 1 < command.size()) {
      value = command[++i];
      if (!Literal(value)) continue;
    }
    std::string key;
    for (char c : option.substr(2)) {
      if (c != '-') key += c;
    }
    if (key == "clipboardmode") key = "clipboard";
    if (key == "vrdp") key = "vrde";
    Set(vm, key, value, /*from_want=*/false);
  }
}

void ScriptReader::SharedFolder(const Command& command) {
  if (command.size() < 4 || !Literal(command[3])) return;
  std::optional<std::string> name = OptionValue(command, "--name");
  if (!name) return Error(command[1].loc, "shared folder without '--name'");
  VmState& vm = Vm(command[3].text);
  if (command[2].text == "add") vm.shares.insert(*name);
  if (command[2].text == "remove") vm.shares.erase(*name);
}

std::string NetworkOf(const SlotState& s) {
  auto name = [&](const char* key, const char* fallback) {
    auto it = s.names.find(key);
    return it == s.names.end() ? std::string(fallback) : it->second;
  };
  switch (s.attachment) {
    case Attachment::kIntnet:
      return name("intnet", "intnet");
    case Attachment::kBridged:
      return name("bridgeadapter", "");
    case Attachment::kHostOnly:
      return name("hostonlyadapter", "");
    case Attachment::kNatNetwork:
      return name("natnetwork", "NatNetwork");
    case Attachment::kGeneric:
      return name("nicgenericdrv", "");
    default:
      return "";
  }
}

void ScriptReader::Fill(Wiring& wiring) const {
  for (const VmState& state : vms_) {
    VmWiring vm;
    vm.name = state.name;
    for (const auto& [slot, s] : state.slots) {
      if (s.attachment == Attachment::kNone) continue;
      vm.adapters.push_back(
          {slot, s.attachment, NetworkOf(s), s.mac, s.cable_connected, s.type});
    }
    vm.clipboard = state.clipboard;
    vm.drag_and_drop = state.drag_and_drop;
    vm.shared_folders = static_cast<int>(state.shares.size());
    vm.vrde = state.vrde;
    vm.audio = state.audio;
    wiring.vms.push_back(std::move(vm));
  }
  wiring.hostonly_if = hostonly_if_;
  wiring.hostonly_host = hostonly_host_;
}

}  // namespace

bool ReadVBoxScript(const std::string& path, Wiring& wiring, Diagnostics& diags) {
  std::string text;
  if (!ReadWholeFile(path, text)) {
    diags.Error(path, {}, "cannot read the file");
    return false;
  }
  return ParseVBoxScript(path, text, wiring, diags);
}

bool ParseVBoxScript(const std::string& path, const std::string& text, Wiring& wiring,
                     Diagnostics& diags) {
  size_t errors_before = diags.list().size();
  ScriptReader reader(path, diags);
  reader.Read(text);
  wiring = Wiring{};
  reader.Fill(wiring);
  for (size_t i = errors_before; i < diags.list().size(); ++i) {
    if (diags.list()[i].severity == Severity::kError) return false;
  }
  return true;
}

std::string VirtualBoxMac(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ':' || c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return "";
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out.size() == 12 ? out : "";
}

}  // namespace bulkhead
