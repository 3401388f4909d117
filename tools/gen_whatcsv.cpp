// gen_whatcsv: writes N made-up avatars in W-Hat's export format
// ("uuid,First Last" lines) to stdout, the same bytes for the same arguments.
// Every name is unique (the first name encodes the line number), three in
// four are single-word "First Resident" accounts as in the real export, and
// keys are random-looking version-4 UUIDs. Used by make run, tests and bench.
//
//   gen_whatcsv COUNT [--seed N] [--demo] [--resident-percent P]
//   --demo   first names start with "Demo": clearly fake, for the shipped sample
//   --resident-percent P   P % "First Resident" accounts instead of three in four
//            (0: all legacy "First Last"), to measure other name mixes
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// splitmix64: a tiny, well-mixed generator; the same seed gives the same file.
uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

const char* const kSyllables[64] = {
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ba", "de", "fi", "go", "ha", "ju", "ke", "la",
    "ma", "no", "pi", "qua", "re", "si", "to", "um", "va", "we", "xi", "ya", "zo", "an", "bel", "cor",
    "dan", "el", "fen", "gar", "hil", "is", "jor", "kal", "lin", "mor", "nel", "or", "pal", "quin",
    "ros", "sel", "tor", "ul", "ven", "wyn", "xan", "yor", "zel", "ash", "bri", "cyn", "dra", "eth",
    "fay", "gwen", "hal", "ir"};

const char* const kLastNames[16] = {"Linden", "Oh", "Writer", "Carter", "Magic", "Foxtrot",
                                    "Sands", "Stone", "Loon", "Baxter", "Moonwalker", "Nightfire",
                                    "Waverider", "Kamala", "Ember", "Rosebud"};

// Line number -> first name: its base-64 digits as syllables, at least two.
std::string FirstName(uint64_t index, bool demo) {
  std::string name = demo ? "Demo" : "";
  uint64_t n = index;
  int syllables = 0;
  do {
    name += kSyllables[n % 64];
    n /= 64;
    ++syllables;
  } while (n > 0 || syllables < 2);
  if (!demo) name[0] = static_cast<char>(name[0] - 'a' + 'A');
  return name;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: gen_whatcsv COUNT [--seed N] [--demo] [--resident-percent P]\n");
    return 2;
  }
  char* end = nullptr;
  uint64_t count = std::strtoull(argv[1], &end, 10);
  if (*end != '\0') {
    std::fprintf(stderr, "gen_whatcsv: COUNT must be a number, not '%s'\n", argv[1]);
    return 2;
  }
  uint64_t seed = 20240101;
  bool demo = false;
  int resident_percent = -1;  // three in four, as the files made before the option
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--resident-percent") == 0 && i + 1 < argc) {
      resident_percent = std::atoi(argv[++i]);
      if (resident_percent < 0 || resident_percent > 100) {
        std::fprintf(stderr, "gen_whatcsv: --resident-percent must be 0 to 100\n");
        return 2;
      }
    } else if (std::strcmp(argv[i], "--demo") == 0) {
      demo = true;
    } else {
      std::fprintf(stderr, "gen_whatcsv: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  static char buffer[1 << 16];
  std::setvbuf(stdout, buffer, _IOFBF, sizeof(buffer));
  uint64_t state = seed;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t high = SplitMix(state), low = SplitMix(state);
    high = (high & ~0xF000ULL) | 0x4000ULL;                          // version 4
    low = (low & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;     // RFC 4122 variant
    uint64_t pick = SplitMix(state);
    const bool resident =
        resident_percent < 0 ? pick % 4 != 0 : static_cast<int>(pick % 100) < resident_percent;
    const char* last = resident ? "Resident" : kLastNames[(pick >> 8) % 16];
    std::printf("%08x-%04x-%04x-%04x-%012llx,%s %s\n", static_cast<unsigned>(high >> 32),
                static_cast<unsigned>((high >> 16) & 0xFFFF), static_cast<unsigned>(high & 0xFFFF),
                static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFULL),
                FirstName(i, demo).c_str(), last);
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}
