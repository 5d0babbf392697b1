# Generate the cases of cases.json's groups EMPTY_LOOP_GROUP (loops whose body may match the empty
# string, with capture groups that may too, repeated from none without a maximum: Onigmo tells
# their empty iterations by the capture groups' values from before them, which logferry runs on
# Oniguruma with Onigmo's test in callouts) and PLUS_LOOP_GROUP (such loops repeated from one
# without a maximum or lazily up to a maximum, and loops that are capture groups themselves) with the local Ruby, replacing
# those groups' earlier cases: `ruby crates/formats/tests/ruby_regex/empty_loop_cases.rb`, then
# re-record the goldens with record.rb. Curated patterns, then DRAWS drawn at random (seeded)
# from a small grammar of such loops in context; every pattern must be one Ruby compiles.
require_relative 'cases_file'

$VERBOSE = nil

EMPTY_LOOP_GROUP = 'Loops repeated from none without a maximum whose body may match the empty string, with capture groups that may too, (?:(a?)b?)*c: Onigmo ends, goes on with or fails an empty iteration by the capture groups\' values from before it; run on Oniguruma with that test in callouts. Curated and drawn at random by empty_loop_cases.rb.'

CURATED = [
  '^(?:(b??)a*?,?)*', '(?:(a?)b?)*c', '(?:(a?)|b)*c', '(?:(a?)|b)*', '(?:(a?)b?)*', '(?:(a?)(b?))*c',
  '(?:(a?)|(b?))*c', '(?:()|())*c', '(?:(a*)b?)*?c', '(?:(a?)b?){0,}c', '(?:(a?)b?){0,}?c',
  '(?<x>(?:(?<y>a?)b?)*)c', '(?:(?<y>a?)|b)*c', '(?:(?i:(a?))B?)*c', '(?:(?:(a?)|b)c?)*$',
  '(?:\\b(a?)b?)*c', '(?:(a?)b?)*\\1c', '(a)(?:(a?)b?)*c', '(?:(a?)b?)*(?:(b?)a?)*c',
  '(?:(?:ab)?(a?))*c', '(?:(a?)b?(?:,c)?)*\\z', '(?:(\\w*)\\s*)*', '(?:(\\w*)\\s*)*$',
  '^(?:(\\w*)(?:\\s|,)*)*$'
]
CURATED_TEXTS = [',,a', ',a', 'bc', 'abc', 'ab cd', 'a b c', 'ababababca', 'aab', 'abbc', 'a ', 'ba,c', 'bbac']

# Items of a loop's body: capture groups that may match the empty string, and others.
CAPTURES = ['(a?)', '(a*)', '(b??)', '(a*?)', '()', '(\\w*)', '([ab]?)', '(a|)', '(|b)', '(a?b?)', '(,?)']
ITEMS = ['a?', 'b?', 'b', 'a', ',?', '\\s*', 'c?', '[ab]*?', 'a*', 'b+', '\\b', '(?:ab)?', '(?:b?c)*', '[^a]?']
QUANTIFIERS = ['*', '*?', '{0,}', '{0,}?']
PLUS_QUANTIFIERS = ['+', '+?', '{1,}', '{1,}?', '+', '*', '{0,3}?', '{1,3}?', '{1,2}?']
BEFORE = ['', '', '^', 'a', '(b)', 'b?', '\\A', ',']
AFTER = ['', '', 'c', '$', '\\z', 'a', '(c)', ',', 'b$']
ALPHABET = ['a', 'b', ',', 'c', ' ']
# (EMPTY_LOOP_DRAWS and EMPTY_LOOP_SEED draw others, for a longer hunt not kept in cases.json.)
DRAWS = Integer(ENV.fetch('EMPTY_LOOP_DRAWS', '500'))

def sequence(rng, depth, names)
  items = Array.new(rng.rand(1..3)) { item(rng, depth, names) }
  items.join
end

def item(rng, depth, names)
  case rng.rand(10)
  when 0..3
    c = CAPTURES.sample(random: rng)
    if names
      names << "n#{names.size}"
      c = c.sub('(', "(?<#{names.last}>")
    end
    c
  when 4..7 then ITEMS.sample(random: rng)
  else
    return ITEMS.sample(random: rng) if depth >= 2
    alts = Array.new(rng.rand(1..2)) { sequence(rng, depth + 1, names) }
    "(?:#{alts.join('|')})"
  end
end

def draw(rng, quantifiers = QUANTIFIERS, capture_loops: false)
  names = rng.rand(4).zero? ? [] : nil
  body = Array.new(rng.rand(1..2)) { sequence(rng, 1, names) }.join('|')
  open = capture_loops ? ['(?:', '(?:', '('].sample(random: rng) : '(?:'
  open = "(?<l#{names.size}>" if open == '(' && names
  loop_ = "#{open}#{body})#{quantifiers.sample(random: rng)}"
  flags = rng.rand(6).zero? ? 'i' : ''
  ["#{BEFORE.sample(random: rng)}#{loop_}#{AFTER.sample(random: rng)}", flags]
end

def texts(rng)
  Array.new(8) { Array.new(rng.rand(0..7)) { ALPHABET.sample(random: rng) }.join }.uniq
end

rng = Random.new(Integer(ENV.fetch('EMPTY_LOOP_SEED', '26')))
# (The curated ones also from every later start position.)
cases = CURATED.map { |src| case_line(EMPTY_LOOP_GROUP, src, '', 'oniguruma', CURATED_TEXTS, starts: true) }
seen = CURATED.to_h { |s| [[s, ''], true] }
while cases.size < CURATED.size + DRAWS
  src, flags = draw(rng)
  # (At least one capture group.)
  next if seen[[src, flags]] || src !~ /\((?!\?:)/ || !compiles?(src, flags)

  seen[[src, flags]] = true
  hays = texts(rng) + CURATED_TEXTS.sample(3, random: rng)
  next unless quick?(src, flags, hays + common_haystacks)

  # Loops whose empty iterations do not depend on stale capture groups run as before, on either
  # engine.
  cases << case_line(EMPTY_LOOP_GROUP, src, flags, 'any', hays)
end

PLUS_LOOP_GROUP = 'Loops whose body may match the empty string, with capture groups that may too, repeated from one without a maximum, (?:(a?)b?)+c, ^(?:(\\w*)\\s*)+ (Onigmo writes a short body out once before its * loop, else enters the loop), or lazily up to a maximum, (?:(a?)b?){0,3}?c (a counted loop testing every iteration), and loops that are capture groups themselves, ((a?)b?)*c (their own group is tested too): run on Oniguruma with Onigmo\'s test in callouts. Curated (also from every later start position) and drawn at random by empty_loop_cases.rb.'

PLUS_CURATED = [
  '^(?:(\\w*)\\s*)+', '^(?:(?<c>b??)a*?,?)+', '(?:(a?)b?)+c', '(?:(a?)|b)+c', '(?:(a?)b?){1,}c', '(?:(a?)b?)+?c',
  '(?:(a?)|b)+?c', '^(?:(\\w*)\\s*)+?$', '(?:(a?)b?){1,}?c', '(?:(a?)(b?))+c', '(?:()|())+c',
  '(?<x>(?:(?<y>a?)b?)+)c', '(?:([a-c]?)[^a-c]?(?:xyz)?[[:alpha:]]?)+c', '(?:(?<k>[^=,]*)=?(?<v>[^,]*),?)+$',
  '(?:(a?)b?)+\\1c', '(?:(\\w*)\\s*)+$', '((a?)b?)*c', '((a?)b?)+c', '((a?)|b)+c', '(?<n>(?<m>a?)b?)+c',
  '(a?b?)+c', '((a?)b?)+?c', '((a?)b?){1,}?c', '((a?)b?)*((b?)a?)+c', '(?:(a?)b?){0,3}?c', '^(?:(\\w*)\\s*){1,3}?$',
  '(?:(a?)|b){1,2}?c'
]
PLUS_TEXTS = CURATED_TEXTS + ['a=1,b=2', 'a=,b=2,', 'bbc', '', 'a,bc']
PLUS_DRAWS = Integer(ENV.fetch('PLUS_LOOP_DRAWS', '500'))

prng = Random.new(Integer(ENV.fetch('PLUS_LOOP_SEED', '27')))
plus = PLUS_CURATED.map { |src| case_line(PLUS_LOOP_GROUP, src, '', 'oniguruma', PLUS_TEXTS, starts: true) }
seen = PLUS_CURATED.to_h { |s| [[s, ''], true] }
while plus.size < PLUS_CURATED.size + PLUS_DRAWS
  src, flags = draw(prng, PLUS_QUANTIFIERS, capture_loops: true)
  next if seen[[src, flags]] || src !~ /\((?!\?:)/ || !compiles?(src, flags)

  seen[[src, flags]] = true
  hays = texts(prng) + CURATED_TEXTS.sample(3, random: prng)
  # (From every later start position too, as gsub and scan search.)
  next unless quick?(src, flags, hays, starts: true) && quick?(src, flags, common_haystacks)

  plus << case_line(PLUS_LOOP_GROUP, src, flags, 'any', hays, starts: true)
end
replace_groups([EMPTY_LOOP_GROUP, PLUS_LOOP_GROUP], cases + plus)
puts "#{cases.size + plus.size} cases written"
