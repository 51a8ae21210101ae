// The slow-sync matching key (pim::identity_of): names and e-mails compare
// case-folded with spaces collapsed, ASCII and not (ASCII takes a shortcut
// past ICU that must give ICU's answer), phones by their last nine digits.
#include <catch2/catch.hpp>

#include "syncmlkit/pim.hpp"

using namespace smk::pim;

namespace {

Item person(const std::string& family, const std::string& given, const std::string& email, const std::string& tel) {
    Contact c;
    c.name.family = family;
    c.name.given = given;
    if (!email.empty()) c.emails.push_back(Email{{}, email});
    if (!tel.empty()) c.phones.push_back(Phone{{}, tel});
    return c;
}

}  // namespace

TEST_CASE("identity_of folds case and spaces in ASCII and in other scripts alike") {
    Identity a = identity_of(person("  Smith ", "John\tPaul", "John.Smith@Example.COM", "+49 170 5551234"));
    CHECK(a.key == "n:smith;john paul;");
    CHECK(a.details == std::vector<std::string>{"e:john.smith@example.com", "t:705551234"});
    CHECK(identity_of(person("SMITH", "john  PAUL", "john.smith@example.com", "0170 555 1234")).key == a.key);

    // Beyond ASCII: ICU's case folding (ß folds to ss, Σ and ς to σ).
    Identity b = identity_of(person("MÜLLER", "Straße", "", ""));
    CHECK(b.key == "n:müller;strasse;");
    CHECK(identity_of(person("müller", "STRASSE", "", "")).key == b.key);
    CHECK(identity_of(person("ΣΊΣΥΦΟΣ", "", "", "")).key == identity_of(person("σίσυφος", "", "", "")).key);
    // ASCII letters beside others fold as in a pure ASCII name.
    CHECK(identity_of(person("Ölz-SMITH", "", "", "")).key == "n:ölz-smith;;");
    // No name, no e-mail, no phone: no key.
    CHECK(identity_of(person("", "", "", "")).key.empty());
}
