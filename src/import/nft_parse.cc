// SPDX-License-Identifier: Apache-2.0
// Reads an nftables ruleset (the `nft -f` syntax) into a Policy, in three passes: a tokenizer
// that keeps line:col, a recursive-descent pass that finds tables, sets and chains and cuts
// chains into rule statements, and a lowering pass that turns each rule into a match over the
// engine's packet sets and inlines jumps into the filter base chains. What cannot be modelled
// exactly is reported as an error, never guessed.
#include <fmt/format.h>

#include <functional>
#include <map>
#include <optional>

#include "import/artifacts.h"
#include "render/lowered.h"

namespace bulkhead {
namespace {

// ---- Tokens ----------------------------------------------------------------------------------

struct Token {
  enum class Kind { kWord, kString, kLBrace, kRBrace, kComma, kEnd, kEof };
  Kind kind = Kind::kEof;
  std::string text;
  SourceLoc loc;
  size_t begin = 0;  // offsets of the token in the source text
  size_t end = 0;
  bool Is(std::string_view w) const { return kind == Kind::kWord && text == w; }
};

using Tokens = std::vector<Token>;

class Tokenizer {
 public:
  explicit Tokenizer(const std::string& text) : text_(text) {}

  Tokens Run() {
    Tokens out;
    while (pos_ < text_.size()) Step(out);
    out.push_back({Token::Kind::kEnd, "", Loc()});
    out.push_back({Token::Kind::kEof, "", Loc()});
    return out;
  }

 private:
  SourceLoc Loc() const { return {line_, static_cast<int>(pos_ - line_start_) + 1}; }

  void Advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      line_start_ = pos_ + 1;
    }
    ++pos_;
  }

  void Step(Tokens& out) {
    size_t before = out.size();
    size_t begin = pos_;
    Lex(out);
    if (out.size() > before) {
      out.back().begin = begin;
      out.back().end = pos_;
    }
  }

  void Lex(Tokens& out) {
    char c = text_[pos_];
    SourceLoc loc = Loc();
    if (c == '#') {
      while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
    } else if (c == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
      Advance();
      Advance();
    } else if (c == '\n' || c == ';') {
      Advance();
      out.push_back({Token::Kind::kEnd, std::string(1, c), loc});
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      Advance();
    } else if (c == '{' || c == '}' || c == ',') {
      Advance();
      auto kind = c == '{'   ? Token::Kind::kLBrace
                  : c == '}' ? Token::Kind::kRBrace
                             : Token::Kind::kComma;
      out.push_back({kind, std::string(1, c), loc});
    } else if (c == '"') {
      out.push_back({Token::Kind::kString, QuotedString(), loc});
    } else {
      out.push_back({Token::Kind::kWord, Word(), loc});
    }
  }

  std::string QuotedString() {
    Advance();
    std::string s;
    while (pos_ < text_.size() && text_[pos_] != '"' && text_[pos_] != '\n') {
      s += text_[pos_];
      Advance();
    }
    if (pos_ < text_.size() && text_[pos_] == '"') Advance();
    return s;
  }

  std::string Word() {
    std::string s;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (std::isspace(static_cast<unsigned char>(c)) ||
          std::string_view("{},;\"#").find(c) != std::string_view::npos) {
        break;
      }
      s += c;
      Advance();
    }
    return s;
  }

  const std::string& text_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  int line_ = 1;
};

// ---- The ruleset's structure -----------------------------------------------------------------

struct NftSet {
  std::string type;                    // "ipv4_addr", "inet_service", ...
  Tokens elements;                     // value tokens, commas and braces removed
  std::vector<std::string> dns_names;  // from a "dns:a,b" comment
};

struct NftChain {
  std::string name;
  SourceLoc loc;
  std::string type;  // "filter", "nat", "route"; empty for a regular chain
  std::string hook;
  int priority = 0;
  std::optional<Action> policy;
  SourceLoc policy_loc;
  std::vector<Tokens> rules;
};

struct NftTable {
  std::string family;  // "ip", "ip6", "inet"
  std::string name;
  std::map<std::string, NftSet> sets;
  std::vector<NftChain> chains;

  const NftChain* FindChain(const std::string& n) const {
    for (const NftChain& c : chains) {
      if (c.name == n) return &c;
    }
    return nullptr;
  }
};

std::optional<long> Number(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string Unsupported(const std::string& what) {
  return fmt::format("unsupported nftables expression '{}'", what);
}

// Cuts the token stream into tables, sets, chains and rule statements.
class StructureParser {
 public:
  StructureParser(const std::string& file, Tokens tokens, Diagnostics& diags)
      : file_(file), tokens_(std::move(tokens)), diags_(diags) {}

  std::vector<NftTable> Run() {
    while (!At(Token::Kind::kEof)) TopStatement();
    return std::move(tables_);
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  bool At(Token::Kind k) const { return Peek().kind == k; }
  const Token& Next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

  void Error(const Token& t, std::string message) {
    diags_.Error(file_, t.loc, std::move(message));
  }

  // One statement's tokens, up to its end at brace depth 0 (newlines inside braces dropped).
  Tokens Statement() {
    Tokens out;
    int depth = 0;
    while (!At(Token::Kind::kEof)) {
      if (depth == 0 && (At(Token::Kind::kEnd) || At(Token::Kind::kRBrace))) break;
      const Token& t = Next();
      if (t.kind == Token::Kind::kLBrace) ++depth;
      if (t.kind == Token::Kind::kRBrace) --depth;
      if (t.kind != Token::Kind::kEnd) out.push_back(t);
    }
    return out;
  }

  void SkipEnds() {
    while (At(Token::Kind::kEnd)) Next();
  }

  bool Expect(Token::Kind k, const char* what) {
    if (At(k)) {
      Next();
      return true;
    }
    Error(Peek(), fmt::format("expected '{}'", what));
    return false;
  }

  void TopStatement() {
    SkipEnds();
    if (At(Token::Kind::kEof)) return;
    const Token& t = Peek();
    if (t.Is("flush")) {
      Statement();
    } else if (t.Is("table")) {
      Next();
      Table();
    } else {
      Error(t, Unsupported(t.text));
      Statement();
      if (At(Token::Kind::kRBrace)) Next();
    }
  }

  void Table() {
    NftTable table;
    const Token& first = Next();
    // "table filter { ... }" leaves the family out: nft then means ip.
    table.family = At(Token::Kind::kLBrace) ? "ip" : first.text;
    table.name = At(Token::Kind::kLBrace) ? first.text : Next().text;
    if (table.family != "ip" && table.family != "ip6" && table.family != "inet") {
      Error(first, Unsupported("table " + table.family));
    }
    if (!Expect(Token::Kind::kLBrace, "{")) return;
    while (SkipEnds(), !At(Token::Kind::kRBrace) && !At(Token::Kind::kEof)) TableItem(table);
    Expect(Token::Kind::kRBrace, "}");
    tables_.push_back(std::move(table));
  }

  void TableItem(NftTable& table) {
    const Token& t = Next();
    if (t.Is("set")) {
      std::string name = Next().text;
      if (Expect(Token::Kind::kLBrace, "{")) table.sets[name] = Set();
    } else if (t.Is("chain")) {
      NftChain chain{Next().text, t.loc};
      if (Expect(Token::Kind::kLBrace, "{")) ChainBody(chain);
      table.chains.push_back(std::move(chain));
    } else if (t.Is("flags") || t.Is("comment")) {
      Statement();
    } else {
      Error(t, Unsupported(t.text));
      Statement();
      if (At(Token::Kind::kRBrace)) Next();
    }
  }

  NftSet Set() {
    NftSet set;
    while (SkipEnds(), !At(Token::Kind::kRBrace) && !At(Token::Kind::kEof)) SetItem(set);
    Expect(Token::Kind::kRBrace, "}");
    return set;
  }

  void SetItem(NftSet& set) {
    Tokens st = Statement();
    if (st.empty()) return;
    const Token& head = st[0];
    if (head.Is("type") && st.size() >= 2) {
      set.type = st[1].text;
    } else if (head.Is("typeof") && st.size() >= 3) {
      set.type = st[1].Is("ip6") ? "ipv6_addr" : st[1].Is("ip") ? "ipv4_addr" : st[1].text;
    } else if (head.Is("comment") && st.size() >= 2) {
      DnsNames(st[1].text, set.dns_names);
    } else if (head.Is("elements")) {
      for (size_t i = 1; i < st.size(); ++i) {
        if (st[i].kind == Token::Kind::kWord || st[i].kind == Token::Kind::kString) {
          if (!st[i].Is("=")) set.elements.push_back(st[i]);
        }
      }
    } else if (!head.Is("flags") && !head.Is("auto-merge") && !head.Is("size")) {
      Error(head, Unsupported(head.text));
    }
  }

  static void DnsNames(const std::string& comment, std::vector<std::string>& out) {
    if (comment.rfind("dns:", 0) != 0) return;
    std::string rest = comment.substr(4);
    size_t start = 0;
    while (start <= rest.size()) {
      size_t comma = rest.find(',', start);
      if (comma == std::string::npos) comma = rest.size();
      if (comma > start) out.push_back(rest.substr(start, comma - start));
      start = comma + 1;
    }
  }

  void ChainBody(NftChain& chain) {
    while (SkipEnds(), !At(Token::Kind::kRBrace) && !At(Token::Kind::kEof)) {
      Tokens st = Statement();
      if (st.empty()) continue;
      if (st[0].Is("type")) {
        BaseChainSpec(chain, st);
      } else if (st[0].Is("policy")) {
        ChainPolicy(chain, st);
      } else if (st[0].Is("comment") && st.size() == 2) {
        continue;
      } else {
        chain.rules.push_back(std::move(st));
      }
    }
    Expect(Token::Kind::kRBrace, "}");
  }

  void BaseChainSpec(NftChain& chain, const Tokens& st) {
    if (st.size() < 4 || !st[2].Is("hook")) {
      Error(st[0], "expected 'type <type> hook <hook> priority <priority>'");
      return;
    }
    chain.type = st[1].text;
    chain.hook = st[3].text;
    if (st.size() >= 6 && st[4].Is("priority")) chain.priority = Priority(st, 5);
  }

  // "filter", "-150", "filter + 10": the order of base chains on one hook.
  int Priority(const Tokens& st, size_t i) {
    static const std::map<std::string, int> kNames = {{"raw", -300},    {"mangle", -150},
                                                      {"dstnat", -100}, {"filter", 0},
                                                      {"security", 50}, {"srcnat", 100}};
    auto named = kNames.find(st[i].text);
    std::string number = st[i].text;
    int sign = number.empty() || number[0] != '-' ? 1 : -1;
    std::optional<long> n = Number(sign < 0 ? number.substr(1) : number);
    if (named == kNames.end() && !n) {
      Error(st[i], Unsupported("priority " + st[i].text));
      return 0;
    }
    int base = named != kNames.end() ? named->second : sign * static_cast<int>(*n);
    if (i + 2 < st.size() && (st[i + 1].Is("+") || st[i + 1].Is("-"))) {
      int offset = static_cast<int>(Number(st[i + 2].text).value_or(0));
      base += st[i + 1].Is("+") ? offset : -offset;
    }
    return base;
  }

  void ChainPolicy(NftChain& chain, const Tokens& st) {
    chain.policy_loc = st[0].loc;
    if (st.size() >= 2 && st[1].Is("accept")) {
      chain.policy = Action::kAccept;
    } else if (st.size() >= 2 && st[1].Is("drop")) {
      chain.policy = Action::kDrop;
    } else {
      Error(st[0], "expected 'policy accept' or 'policy drop'");
    }
  }

  const std::string& file_;
  Tokens tokens_;
  size_t pos_ = 0;
  Diagnostics& diags_;
  std::vector<NftTable> tables_;
};

// ---- One rule as a match ---------------------------------------------------------------------

struct Match {
  IfaceMatch iif;
  IfaceMatch oif;
  StateMatch state = StateMatch::kAny;
  PacketSet packets = PacketSet::All();
  bool never = false;    // no packet the model knows can match
  bool inexact = false;  // interface wildcards met that cannot be intersected exactly

  bool PacketOnly() const { return iif.IsAny() && oif.IsAny() && state == StateMatch::kAny; }
};

struct Verdict {
  enum class Kind { kNone, kAccept, kDrop, kReject, kJump, kGoto, kReturn, kContinue };
  Kind kind = Kind::kNone;
  std::string target;
};

struct Rule {
  Match match;
  Verdict verdict;
  Provenance origin;
  SourceLoc loc;
  bool over_approximated = false;
};

PacketSet FamilyPackets(Family f) { return PacketSet::Of(AllAddrs(f), AllAddrs(f), AllServices()); }

PacketSet ServicePackets(const ServiceSet& s) {
  return PacketSet::Of(AllAddrsBothFamilies(), AllAddrsBothFamilies(), s);
}

bool HasWildcard(const IfaceMatch& m) {
  return std::any_of(m.names.begin(), m.names.end(),
                     [](const std::string& n) { return !n.empty() && n.back() == '*'; });
}

bool Listed(const std::vector<std::string>& names, const std::string& n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

// The conjunction of two interface matches; nullopt when no interface satisfies both. A
// wildcard ("vbox*") in the list being filtered cannot be intersected exactly: `inexact`.
std::optional<IfaceMatch> ConjoinIface(const IfaceMatch& a, const IfaceMatch& b, bool& inexact) {
  if (a.IsAny()) return b;
  if (b.IsAny()) return a;
  if (a.negated && b.negated) {
    IfaceMatch out = a;
    for (const std::string& n : b.names) {
      if (!Listed(out.names, n)) out.names.push_back(n);
    }
    return out;
  }
  // Filter a positive list by the other match; prefer filtering the list without wildcards.
  bool swap = b.negated || (HasWildcard(b) && !a.negated && !HasWildcard(a));
  const IfaceMatch& filter = swap ? b : a;
  const IfaceMatch& list = swap ? a : b;
  if (HasWildcard(list)) inexact = true;
  IfaceMatch out;
  for (const std::string& n : list.names) {
    if (filter.Matches(n)) out.names.push_back(n);
  }
  if (out.names.empty()) return std::nullopt;
  return out;
}

Match Conjoin(const Match& a, const Match& b) {
  Match out;
  if (a.never || b.never) return {.never = true};
  out.inexact = a.inexact || b.inexact;
  std::optional<IfaceMatch> iif = ConjoinIface(a.iif, b.iif, out.inexact);
  std::optional<IfaceMatch> oif = ConjoinIface(a.oif, b.oif, out.inexact);
  bool states_clash =
      a.state != StateMatch::kAny && b.state != StateMatch::kAny && a.state != b.state;
  if (!iif || !oif || states_clash) return {.never = true, .inexact = out.inexact};
  out.iif = *iif;
  out.oif = *oif;
  out.state = a.state != StateMatch::kAny ? a.state : b.state;
  out.packets = a.packets.Intersect(b.packets);
  out.never = out.packets.empty();
  return out;
}

struct NamedValue {
  const char* name;
  int value;
};


constexpr NamedValue kProtocols[] = {
    {"icmp", kProtoIcmp},
    {"igmp", 2},
    {"tcp", kProtoTcp},
    {"udp", kProtoUdp},
    {"dccp", 33},
    {"gre", 47},
    {"esp", 50},
    {"ah", 51},
    {"icmpv6", kProtoIcmpV6},
    {"ipv6-icmp", kProtoIcmpV6},
    {"sctp", kProtoSctp},
    {"udplite", 136},
};

constexpr NamedValue kServices[] = {
    {"ftp", 21},    {"ssh", 22},    {"telnet", 23},      {"smtp", 25},   {"domain", 53},
    {"bootps", 67}, {"bootpc", 68}, {"http", 80},        {"pop3", 110},  {"ntp", 123},
    {"imap", 143},  {"https", 443}, {"submission", 587}, {"imaps", 993}, {"pop3s", 995},
};

template <size_t N>
std::optional<int> Lookup(const NamedValue (&table)[N], std::string_view name) {
  for (const NamedValue& v : table) {
    if (name == v.name) return v.value;
  }
  return std::nullopt;
}

// Turns the tokens of one rule into a Rule, given the sets of its table.
class RuleParser {
 public:
  RuleParser(const std::string& file, const std::string& source, const NftTable& table,
             NameTable& names, Diagnostics& diags, std::string_view vm_user)
      : file_(file),
        source_(source),
        table_(table),
        names_(names),
        diags_(diags),
        vm_user_(vm_user) {}

  std::optional<Rule> Parse(const Tokens& st) {
    st_ = &st;
    i_ = 0;
    ok_ = true;
    rule_ = Rule{};
    rule_.loc = st[0].loc;
    std::string comment;
    th_ = nullptr;
    port_protocols_only_ = false;
    while (ok_ && i_ < st.size()) Expression(comment);
    // th reads the bytes where a port would be in any protocol: exact only for those with ports.
    if (ok_ && th_ != nullptr && !port_protocols_only_) {
      Fail(*th_, Unsupported("th dport without meta l4proto tcp, udp or sctp"));
    }
    if (!ok_) return std::nullopt;
    rule_.origin = {file_, st[0].loc.line, "", comment.empty() ? Text(st) : comment};
    return rule_;
  }

 private:
  // The rule as written, on one line.
  std::string Text(const Tokens& st) const {
    std::string out;
    for (char c : source_.substr(st.front().begin, st.back().end - st.front().begin)) {
      bool space = std::isspace(static_cast<unsigned char>(c));
      if (!space)
        out += c;
      else if (!out.empty() && out.back() != ' ')
        out += ' ';
    }
    return out;
  }

  const Token& Cur() const {
    static const Token kNone;
    return i_ < st_->size() ? (*st_)[i_] : kNone;
  }
  const Token& Take() { return i_ < st_->size() ? (*st_)[i_++] : Cur(); }

  void Fail(const Token& at, std::string message) {
    if (ok_) diags_.Error(file_, at.loc, std::move(message));
    ok_ = false;
  }

  void Constrain(const PacketSet& s) { rule_.match.packets = rule_.match.packets.Intersect(s); }

  void Expression(std::string& comment) {
    const Token& t = Take();
    const std::string& w = t.text;
    if (w == "counter") return SkipOptions({"packets", "bytes"});
    if (w == "log") return SkipOptions({"prefix", "level", "flags", "group", "snaplen"});
    if (w == "comment") {
      comment = Take().text;
      return;
    }
    if (w == "iif" || w == "iifname" || w == "oif" || w == "oifname") return Iface(t, w);
    if (w == "meta") return Meta(t);
    if (w == "ip" || w == "ip6") return Ip(t, w == "ip" ? Family::kV4 : Family::kV6);
    if (w == "tcp" || w == "udp" || w == "th") return Ports(t);
    if (w == "icmp" || w == "icmpv6") return Icmp(t, w == "icmp" ? Family::kV4 : Family::kV6);
    if (w == "ct") return Ct(t);
    if (VerdictWord(t)) return;
    if (t.kind == Token::Kind::kWord && (w == "masquerade" || w == "snat" || w == "dnat")) {
      return Fail(t, Unsupported(w + " in a filter chain"));
    }
    Fail(t, Unsupported(w));
  }

  void SkipOptions(std::initializer_list<std::string_view> options) {
    while (i_ < st_->size() &&
           std::find(options.begin(), options.end(), Cur().text) != options.end()) {
      i_ += 2;
    }
  }

  bool VerdictWord(const Token& t) {
    using K = Verdict::Kind;
    static const std::map<std::string, K> kWords = {
        {"accept", K::kAccept},    {"drop", K::kDrop}, {"reject", K::kReject},
        {"jump", K::kJump},        {"goto", K::kGoto}, {"return", K::kReturn},
        {"continue", K::kContinue}};
    auto it = kWords.find(t.text);
    if (t.kind != Token::Kind::kWord || it == kWords.end()) return false;
    rule_.verdict.kind = it->second;
    if (it->second == K::kJump || it->second == K::kGoto) rule_.verdict.target = Take().text;
    if (it->second == K::kReject && Cur().Is("with")) {
      while (i_ < st_->size() && !Cur().Is("comment")) ++i_;
    }
    return true;
  }

  // "!=" or "==" before a value; true for "!=".
  bool Negation() {
    if (Cur().Is("!=")) {
      ++i_;
      return true;
    }
    if (Cur().Is("==")) ++i_;
    return false;
  }

  // A value, a comma list, an anonymous set "{ a, b }" or a named set "@name".
  Tokens Values(const NftSet** named = nullptr) {
    Tokens out;
    if (Cur().kind == Token::Kind::kLBrace) {
      ++i_;
      while (i_ < st_->size() && Cur().kind != Token::Kind::kRBrace) {
        if (Cur().kind != Token::Kind::kComma) out.push_back(Cur());
        ++i_;
      }
      ++i_;
      return out;
    }
    if (!Cur().text.empty() && Cur().text[0] == '@') return NamedSet(Take(), named);
    out.push_back(Take());
    while (Cur().kind == Token::Kind::kComma) {
      ++i_;
      out.push_back(Take());
    }
    return out;
  }

  Tokens NamedSet(const Token& t, const NftSet** named) {
    auto it = table_.sets.find(t.text.substr(1));
    if (it == table_.sets.end()) {
      Fail(t, fmt::format("unknown set '{}'", t.text.substr(1)));
      return {};
    }
    if (named != nullptr) *named = &it->second;
    return it->second.elements;
  }

  void Iface(const Token& t, const std::string& w) {
    bool negated = Negation();
    Match m;
    IfaceMatch& side = w[0] == 'i' ? m.iif : m.oif;
    side.negated = negated;
    for (const Token& v : Values()) side.names.push_back(v.text);
    if (side.names.empty()) return Fail(t, Unsupported(w + " {}"));
    rule_.match = Conjoin(rule_.match, m);
    if (rule_.match.inexact) Fail(t, Unsupported("interface wildcards in one rule"));
  }

  void Meta(const Token& t) {
    const Token& key = Take();
    const std::string& k = key.text;
    if (k == "iif" || k == "iifname" || k == "oif" || k == "oifname") return Iface(t, k);
    if (k == "l4proto") return L4Proto(t, std::nullopt);
    if (k == "nfproto") return NfProto(t);
    if (k == "skgid" || k == "skuid") return SocketOwner(t, k);
    Fail(t, Unsupported("meta " + k));
  }

  void L4Proto(const Token& t, std::optional<Family> f) {
    bool negated = Negation();
    ServiceSet s;
    for (const Token& v : Values()) {
      std::optional<long> n = Number(v.text);
      std::optional<int> p = n ? std::optional<int>(*n) : Lookup(kProtocols, v.text);
      if (!p || *p > 255) return Fail(v, Unsupported(v.text));
      s = s.Union(Proto(static_cast<uint8_t>(*p)));
    }
    if (negated) s = AllServices().Subtract(s);
    ServiceSet with_ports = Proto(kProtoTcp).Union(Proto(kProtoUdp)).Union(Proto(kProtoSctp));
    if (s.IsSubsetOf(with_ports)) port_protocols_only_ = true;
    Constrain(f ? PacketSet::Of(AllAddrs(*f), AllAddrs(*f), s) : ServicePackets(s));
    (void)t;
  }

  void NfProto(const Token& t) {
    bool negated = Negation();
    PacketSet s;
    for (const Token& v : Values()) {
      if (!v.Is("ipv4") && !v.Is("ipv6")) return Fail(v, Unsupported("meta nfproto " + v.text));
      s = s.Union(FamilyPackets(v.Is("ipv4") ? Family::kV4 : Family::kV6));
    }
    Constrain(negated ? PacketSet::All().Subtract(s) : s);
    (void)t;
  }

  // The socket's owner is not part of the model, but for the firewall VM's user on the host:
  // the host's own packets are by definition every other user's. Any other owner match is
  // taken as "every packet", which only widens what an accept rule lets through: sound for
  // accept rules (with a warning); for any other verdict the rule is refused.
  void SocketOwner(const Token& t, const std::string& k) {
    bool negated = Negation();
    Tokens values = Values();
    if (k == "skuid" && !vm_user_.empty() && values.size() == 1 && values[0].text == vm_user_) {
      if (!negated) rule_.match = Conjoin(rule_.match, Match{.never = true});
      return;
    }
    rule_.over_approximated = true;
    diags_.Warning(file_, t.loc,
                   fmt::format("over-approximated nftables expression 'meta {}' (taken to "
                               "match every packet)",
                               k));
  }

  void Ip(const Token& t, Family f) {
    const Token& key = Take();
    const std::string& k = key.text;
    const char* word = f == Family::kV4 ? "ip" : "ip6";
    if (k == "saddr" || k == "daddr") return Address(t, f, k == "saddr");
    if ((f == Family::kV4 && k == "protocol") || (f == Family::kV6 && k == "nexthdr")) {
      return L4Proto(t, f);
    }
    Fail(t, Unsupported(fmt::format("{} {}", word, k)));
  }

  std::optional<AddrSet> AddressValue(const Token& v, Family f) {
    std::string text = v.text;
    size_t dash = text.find('-');
    if (dash != std::string::npos) {
      auto a = IpAddress::Parse(text.substr(0, dash));
      auto b = IpAddress::Parse(text.substr(dash + 1));
      if (!a || !b || a->family != f || b->family != f) return std::nullopt;
      return AddrSet(AddrsOf(*a).ranges()[0].first, AddrsOf(*b).ranges()[0].first);
    }
    auto p = Prefix::Parse(text);
    if (!p || p->address.family != f) return std::nullopt;
    return AddrsOf(p->Network());
  }

  void Address(const Token& t, Family f, bool source) {
    bool negated = Negation();
    const NftSet* named = nullptr;
    AddrSet s;
    for (const Token& v : Values(&named)) {
      std::optional<AddrSet> a = AddressValue(v, f);
      if (!a)
        return Fail(
            v, fmt::format("invalid {} address '{}'", f == Family::kV4 ? "IPv4" : "IPv6", v.text));
      s = s.Union(*a);
    }
    if (named != nullptr) {
      for (const std::string& n : named->dns_names) s = s.Union(NameAddr(names_.Intern(n), f));
    }
    if (negated) s = AllAddrs(f).Subtract(s);
    AddrSet any = AllAddrs(f);
    Constrain(source ? PacketSet::Of(s, any, AllServices()) : PacketSet::Of(any, s, AllServices()));
    (void)t;
  }

  std::optional<ServiceSet> PortValue(const Token& v, const std::vector<uint8_t>& protos) {
    std::string text = v.text;
    size_t dash = text.find('-');
    std::optional<long> first, last;
    if (dash != std::string::npos) {
      first = Number(text.substr(0, dash));
      last = Number(text.substr(dash + 1));
    } else {
      std::optional<int> named = Lookup(kServices, text);
      first = last = named ? std::optional<long>(*named) : Number(text);
    }
    if (!first || !last || *first > *last || *last > 65535) return std::nullopt;
    ServiceSet s;
    for (uint8_t p : protos) s = s.Union(bulkhead::Ports(p, *first, *last));
    return s;
  }

  void Ports(const Token& t) {
    const Token& key = Take();
    if (!key.Is("dport")) return Fail(t, Unsupported(t.text + " " + key.text));
    if (t.Is("th")) th_ = &t;
    std::vector<uint8_t> protos = t.Is("tcp") ? std::vector<uint8_t>{kProtoTcp}
                                  : t.Is("udp")
                                      ? std::vector<uint8_t>{kProtoUdp}
                                      : std::vector<uint8_t>{kProtoTcp, kProtoUdp, kProtoSctp};
    bool negated = Negation();
    ServiceSet s;
    for (const Token& v : Values()) {
      std::optional<ServiceSet> p = PortValue(v, protos);
      if (!p) return Fail(v, fmt::format("invalid port '{}'", v.text));
      s = s.Union(*p);
    }
    if (negated) {
      ServiceSet all;
      for (uint8_t p : protos) all = all.Union(Proto(p));
      s = all.Subtract(s);
    }
    Constrain(ServicePackets(s));
  }

  void Icmp(const Token& t, Family f) {
    const Token& key = Take();
    if (!key.Is("type")) return Fail(t, Unsupported(t.text + " " + key.text));
    uint8_t proto = f == Family::kV4 ? kProtoIcmp : kProtoIcmpV6;
    bool negated = Negation();
    ServiceSet s;
    for (const Token& v : Values()) {
      std::optional<long> n = Number(v.text);
      int type = n ? static_cast<int>(*n) : IcmpTypeNumber(f, v.text);
      if (type < 0 || type > 255) return Fail(v, Unsupported(t.text + " type " + v.text));
      s = s.Union(IcmpType(proto, static_cast<uint8_t>(type)));
    }
    if (negated) s = Proto(proto).Subtract(s);
    Constrain(PacketSet::Of(AllAddrs(f), AllAddrs(f), s));
  }

  // Only new and established connections are modelled: "related" and "invalid" packets are
  // never put to a chain, so a state list keeps just those two.
  void Ct(const Token& t) {
    const Token& key = Take();
    if (!key.Is("state")) return Fail(t, Unsupported("ct " + key.text));
    bool negated = Negation();
    bool is_new = false, established = false;
    for (const Token& v : Values()) {
      if (v.Is("new"))
        is_new = true;
      else if (v.Is("established"))
        established = true;
      else if (!v.Is("related") && !v.Is("invalid") && !v.Is("untracked")) {
        return Fail(v, Unsupported("ct state " + v.text));
      }
    }
    if (negated) is_new = !is_new, established = !established;
    Match state;
    if (is_new && !established) state.state = StateMatch::kNew;
    if (established && !is_new) state.state = StateMatch::kEstablished;
    state.never = !is_new && !established;
    rule_.match = Conjoin(rule_.match, state);
  }

  const std::string& file_;
  const std::string& source_;
  const NftTable& table_;
  NameTable& names_;
  Diagnostics& diags_;
  std::string_view vm_user_;
  const Tokens* st_ = nullptr;
  size_t i_ = 0;
  bool ok_ = true;
  Rule rule_;
  const Token* th_ = nullptr;         // a "th dport" of this rule
  bool port_protocols_only_ = false;  // a meta l4proto of this rule allows only tcp, udp, sctp
};

// ---- Inlining chains into the Policy ---------------------------------------------------------

using ParsedChains = std::map<std::string, std::vector<Rule>>;

class Flattener {
 public:
  Flattener(const std::string& file, const ParsedChains& chains, Diagnostics& diags)
      : file_(file), chains_(chains), diags_(diags) {}

  // Rules of base chain `name`, jumps inlined; `cond` restricts it to the table's family.
  void Run(const std::string& name, const Match& cond, Action base_default,
           std::vector<PolicyRule>& out) {
    base_default_ = base_default;
    out_ = &out;
    stack_.clear();
    Chain(name, cond);
  }

 private:
  void Emit(const Match& m, Action a, const Provenance& origin) {
    out_->push_back({m.iif, m.oif, m.state, m.packets, a, origin});
  }

  void Chain(const std::string& name, Match cur) {
    stack_.push_back(name);
    for (const Rule& r : chains_.at(name)) {
      Match m = Conjoin(cur, r.match);
      if (m.inexact) {
        diags_.Error(file_, r.loc, Unsupported("interface wildcards across a jump"));
        continue;
      }
      if (m.never) continue;
      if (!Step(r, m, cur)) break;
    }
    stack_.pop_back();
  }

  // Applies one rule; false when no packet goes on past it in this chain.
  bool Step(const Rule& r, const Match& m, Match& cur) {
    using K = Verdict::Kind;
    switch (r.verdict.kind) {
      case K::kNone:
      case K::kContinue:
        return true;
      case K::kAccept:
        Emit(m, Action::kAccept, r.origin);
        return true;
      case K::kDrop:
        Emit(m, Action::kDrop, r.origin);
        return true;
      case K::kReject:
        Emit(m, Action::kReject, r.origin);
        return true;
      case K::kJump:
        return Jump(r, m);
      case K::kGoto:
        return Jump(r, m) && Leave(r, m, cur);
      case K::kReturn:
        return Leave(r, m, cur);
    }
    return true;
  }

  bool Jump(const Rule& r, const Match& m) {
    const std::string& target = r.verdict.target;
    if (!chains_.count(target)) {
      diags_.Error(file_, r.loc, fmt::format("unknown chain '{}'", target));
      return true;
    }
    if (std::find(stack_.begin(), stack_.end(), target) != stack_.end()) {
      diags_.Error(file_, r.loc, fmt::format("chain '{}' jumps back into itself", target));
      return true;
    }
    Chain(target, m);
    return true;
  }

  // The packets of `m` leave this chain undecided: in a base chain its policy decides them;
  // in a jumped-to chain they go back to the caller, which is exact only when the rule
  // matched on packet fields alone (they are then cut out of the rest of the chain).
  bool Leave(const Rule& r, const Match& m, Match& cur) {
    if (stack_.size() == 1) {
      Emit(m, base_default_, r.origin);
      return true;
    }
    if (!r.match.PacketOnly()) {
      diags_.Error(file_, r.loc, Unsupported("conditional return on interface or state"));
      return false;
    }
    cur.packets = cur.packets.Subtract(r.match.packets);
    return !cur.packets.empty();
  }

  const std::string& file_;
  const ParsedChains& chains_;
  Diagnostics& diags_;
  Action base_default_ = Action::kAccept;
  std::vector<PolicyRule>* out_ = nullptr;
  std::vector<std::string> stack_;
};

ParsedChains ParseRules(const std::string& file, const std::string& source, const NftTable& table,
                        NameTable& names, Diagnostics& diags, std::string_view vm_user) {
  ParsedChains out;
  RuleParser parser(file, source, table, names, diags, vm_user);
  for (const NftChain& c : table.chains) {
    std::vector<Rule>& rules = out[c.name];
    bool nat = !c.type.empty() && c.type != "filter";
    for (const Tokens& st : c.rules) {
      if (nat) continue;  // nat chains rewrite addresses; they never filter
      std::optional<Rule> r = parser.Parse(st);
      if (!r) continue;
      if (r->over_approximated && r->verdict.kind != Verdict::Kind::kAccept) {
        diags.Error(file, r->loc, Unsupported("meta skgid or skuid without accept"));
        continue;
      }
      rules.push_back(std::move(*r));
    }
  }
  return out;
}

Match TableCondition(const NftTable& table) {
  Match m;
  if (table.family == "ip") m.packets = FamilyPackets(Family::kV4);
  if (table.family == "ip6") m.packets = FamilyPackets(Family::kV6);
  return m;
}

// One filter base chain, with the parsed rules of its table.
struct BaseChain {
  const NftTable* table;
  const NftChain* chain;
  const ParsedChains* rules;
};

Provenance PolicyOrigin(const std::string& file, const NftChain& c) {
  SourceLoc at = c.policy ? c.policy_loc : c.loc;
  return {file, at.line, "",
          fmt::format("policy {} of chain '{}'", ActionName(c.policy.value_or(Action::kAccept)),
                      c.name)};
}

// The base chains of one hook, in priority order: a packet must be accepted by each in turn
// (a chain of an ip or ip6 table only sees its own family). Accepting rules of one chain are
// expanded into the next chains, conjoined with their match.
class HookSequence {
 public:
  HookSequence(const std::string& file, std::vector<BaseChain> chains, Diagnostics& diags)
      : file_(file), chains_(std::move(chains)), diags_(diags) {}

  void Run(const std::string& hook, Chain& out) {
    hook_ = hook;
    auto [action, origin] = Sequence(0, Match{}, out.rules);
    out.default_action = action;
    out.default_origin = origin;
    if (origin.text.empty()) out.default_origin = {file_, 0, "", "no chain on hook " + hook};
  }

 private:
  using Outcome = std::pair<Action, Provenance>;

  // Appends the rules that decide the packets of `cond` in chains i.. and returns what
  // happens to the packets none of them decides. `after_accept`: an accepting rule of an
  // earlier chain let them in, and is named when no later chain decides otherwise.
  Outcome Sequence(size_t i, const Match& cond, std::vector<PolicyRule>& out,
                   bool after_accept = false) {
    if (i == chains_.size()) return {Action::kAccept, {}};  // no later chain: accepted
    const BaseChain& b = chains_[i];
    Action policy = b.chain->policy.value_or(Action::kAccept);
    Match mine = Conjoin(cond, TableCondition(*b.table));
    std::vector<PolicyRule> rules;
    Flattener(file_, *b.rules, diags_).Run(b.chain->name, mine, policy, rules);
    for (PolicyRule& r : rules) Close(i, std::move(r), out);
    if (b.table->family != "inet" && !mine.never) {
      Close(i,
            {mine.iif, mine.oif, mine.state, mine.packets, policy, PolicyOrigin(file_, *b.chain)},
            out);
      return Sequence(i + 1, cond, out, after_accept);
    }
    if (policy != Action::kAccept) return {policy, PolicyOrigin(file_, *b.chain)};
    Outcome later = Sequence(i + 1, cond, out, after_accept);
    // Passed by this chain's policy, and no later chain refused them: the policy decided.
    if (later.second.text.empty() && !after_accept) later.second = PolicyOrigin(file_, *b.chain);
    return later;
  }

  // Emits a rule of chain i; an accepting one first goes through the later chains.
  void Close(size_t i, PolicyRule r, std::vector<PolicyRule>& out) {
    if (r.action != Action::kAccept || i + 1 == chains_.size()) return out.push_back(std::move(r));
    Match m{r.iif, r.oif, r.state, r.match};
    auto [action, origin] = Sequence(i + 1, m, out, true);
    // Accepted for want of a later chain that sees it: the accepting rule decided.
    if (origin.text.empty()) origin = r.origin;
    out.push_back({r.iif, r.oif, r.state, r.match, action, origin});
  }

  const std::string& file_;
  std::vector<BaseChain> chains_;
  Diagnostics& diags_;
  std::string hook_;
};

void CollectBaseChains(const std::string& file, const NftTable& table, const ParsedChains& rules,
                       std::map<std::string, std::vector<BaseChain>>& hooks, Diagnostics& diags) {
  for (const NftChain& c : table.chains) {
    if (c.type != "filter") continue;
    if (c.hook != "input" && c.hook != "forward" && c.hook != "output") {
      diags.Warning(file, c.loc,
                    fmt::format("chain '{}' on hook '{}' is not analysed", c.name, c.hook));
      continue;
    }
    hooks[c.hook].push_back({&table, &c, &rules});
  }
}

}  // namespace

bool ParseNftables(const std::string& file_name, const std::string& text, Policy& policy,
                   Diagnostics& diags, std::string_view vm_user) {
  size_t errors_before = diags.list().size();
  policy.engine = "nftables";
  StructureParser structure(file_name, Tokenizer(text).Run(), diags);
  std::vector<NftTable> tables = structure.Run();
  std::vector<ParsedChains> parsed;
  parsed.reserve(tables.size());
  std::map<std::string, std::vector<BaseChain>> hooks;
  for (const NftTable& t : tables) {
    parsed.push_back(ParseRules(file_name, text, t, policy.names, diags, vm_user));
    CollectBaseChains(file_name, t, parsed.back(), hooks, diags);
  }
  for (auto& [hook, chains] : hooks) {
    std::stable_sort(chains.begin(), chains.end(), [](const BaseChain& a, const BaseChain& b) {
      return a.chain->priority < b.chain->priority;
    });
    Chain& out = hook == "input"     ? policy.input
                 : hook == "forward" ? policy.forward
                                     : policy.output;
    HookSequence(file_name, chains, diags).Run(hook, out);
  }
  for (size_t i = errors_before; i < diags.list().size(); ++i) {
    if (diags.list()[i].severity == Severity::kError) return false;
  }
  return true;
}

}  // namespace bulkhead
