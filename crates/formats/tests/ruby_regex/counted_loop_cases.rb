# Generate the cases of cases.json's group COUNTED_LOOP_GROUP (groups whose body may match the
# empty string, with capture groups that may too, repeated a count with a maximum: {0,3}, {1,2},
# {2,4}, greedy or lazy) with the local Ruby, replacing that group's earlier cases:
# `ruby crates/formats/tests/ruby_regex/counted_loop_cases.rb`, then re-record the goldens with
# record.rb. Curated patterns (Ruby's result, or logferry's refusal), then DRAWS drawn
# at random (seeded) from a small grammar of such loops in context, each compared from every
# start position; a drawn pattern logferry refuses is listed in REFUSED_DRAWN (so marked
# 'refused'); every pattern must be one Ruby compiles.
require_relative 'cases_file'

$VERBOSE = nil

COUNTED_LOOP_GROUP = 'Groups whose body may match the empty string, with capture groups that may too, repeated a count with a maximum, a(?:[ab]*?,?(b??)){0,3}$: Onigmo runs a long body as a counted loop that tests every iteration by the capture groups\' values from before it (an iteration that matched the empty string where a group held nothing or text before goes on, and uses up a count), a short one as copies without the test. Lazy ones run on Oniguruma with that test in callouts; greedy ones are refused unless their body holds only greedy items, no alternation, repeated group or reference (those end alike). Curated and drawn at random by counted_loop_cases.rb.'

# Curated: [pattern, engine].
CURATED = [
  ['a(?:[ab]*?(?:,?)(?:(b??))){0,3}$', 'refused'], ['a(?:[ab]*?,?(b??)){0,3}$', 'refused'],
  ['a(?:[ab]*?,?(b??)){0,3}?$', 'oniguruma'], ['a(?:[ab]*?,?(b??)){1,3}?$', 'oniguruma'],
  ['a(?:[ab]*?,?(b??)){1,3}$', 'refused'], ['(?:[ab]*?(b??)){0,2}$', 'refused'],
  ['(?:\\d*(a{0,2})){0,3}x', 'oniguruma'], ['(?:(a?)b?){0,3}c', 'refused'], ['(?:(a?)b?){0,3}?c', 'oniguruma'],
  ['(?:a*?(b?)){2,4}?$', 'refused'], ['(?:a*?(b?)){2,4}$', 'refused'],
  ['a(?:(b??)){0,3}$', 'any'], ['a(b??){0,3}$', 'any'], ['(?:(a?)){0,3}c', 'any'],
  # Greedy over a body of greedy items without alternations or repeated groups: alike.
  ['(?:b?(,?)){0,5}b$', 'oniguruma'], ['\\A(?:a?()){1,3}$', 'oniguruma'], ['b?(?:b?(,?)){1,3}c', 'oniguruma'],
  ['(?:[ab]*\\b(a*)){1,3}a', 'oniguruma'],
  # Lazy items or alternations: differ (on texts of up to four characters) when run as written.
  ['\\A(?:(?:,?)(b??)()){1,2}(c)', 'refused'], ['a(?:[ab]*?(b??)){0,3}\\z', 'refused'],
  ['(?:(b??)|\\b){0,5}$', 'refused'], ['(b)(?:[ab]*?[ab]*?(|b)){1,2}b$', 'refused'],
  ['\\A(?:a*?(a*?)){1,2}, ', 'refused'], ['a(?:(?:(?:,?))(a*?)){0,5}\\z', 'refused'],
  ['\\A(?:\\d*(b??)){1,2}\\z', 'refused'], ['(b)(?:,?(|b)){0,3}b$', 'refused']
]
CURATED_TEXTS = ['aab', 'ab', 'abb', 'aabb', 'abab', 'a,b', 'aaab', 'bbc', 'abc', 'aac', '12ax', 'aax', '', 'c', 'bc', ',c', 'bb,c', 'ab, ', 'aa']

CAPTURES = ['(a?)', '(a*)', '(b??)', '(a*?)', '()', '(\\w*)', '([ab]?)', '(a|)', '(|b)', '(,?)', '(b?)']
ITEMS = ['a?', 'b?', 'b', 'a', ',?', '(?:,?)', 'c?', '[ab]*?', '[ab]*', 'a*?', 'a*', 'b+', '\\b', '(?:ab)?', '\\d*', '[^a]?']
QUANTIFIERS = ['{0,2}', '{0,3}', '{1,2}', '{1,3}', '{0,5}', '{2,3}', '{0,2}?', '{0,3}?', '{1,3}?', '{2,4}?', '{1,2}?']
BEFORE = ['', '', '^', 'a', '(b)', 'b?', '\\A', ',']
AFTER = ['', '', 'c', '$', '\\z', 'a', '(c)', ',', 'b$']
ALPHABET = ['a', 'b', ',', 'c', 'a']
# (COUNTED_LOOP_DRAWS and COUNTED_LOOP_SEED draw others, for a longer hunt not kept in cases.json.)
DRAWS = Integer(ENV.fetch('COUNTED_LOOP_DRAWS', '300'))
# Drawn patterns logferry refuses (under the default seed and count).
REFUSED_DRAWN = File.exist?(File.join(__dir__, 'counted_loop_refused.txt')) ?
  File.read(File.join(__dir__, 'counted_loop_refused.txt')).split("\n").to_h { |l| [l, true] } : {}

def sequence(rng, depth)
  Array.new(rng.rand(1..3)) { item(rng, depth) }.join
end

def item(rng, depth)
  case rng.rand(10)
  when 0..3 then CAPTURES.sample(random: rng)
  when 4..7 then ITEMS.sample(random: rng)
  else
    return ITEMS.sample(random: rng) if depth >= 2

    "(?:#{Array.new(rng.rand(1..2)) { sequence(rng, depth + 1) }.join('|')})"
  end
end

def draw(rng)
  body = Array.new(rng.rand(1..2)) { sequence(rng, 1) }.join('|')
  ["#{BEFORE.sample(random: rng)}(?:#{body})#{QUANTIFIERS.sample(random: rng)}#{AFTER.sample(random: rng)}", body]
end

def texts(rng)
  Array.new(8) { Array.new(rng.rand(0..6)) { ALPHABET.sample(random: rng) }.join }.uniq
end

rng = Random.new(Integer(ENV.fetch('COUNTED_LOOP_SEED', '27')))
cases = CURATED.map { |src, engine| case_line(COUNTED_LOOP_GROUP, src, '', engine, CURATED_TEXTS, starts: true) }
seen = CURATED.to_h { |s, _| [s, true] }
while cases.size < CURATED.size + DRAWS
  src, body = draw(rng)
  # (At least one capture group in the loop.)
  next if seen[src] || body !~ /\((?!\?:)/ || !compiles?(src, '')

  seen[src] = true
  hays = texts(rng) + CURATED_TEXTS.sample(3, random: rng)
  next unless quick?(src, '', hays + common_haystacks, starts: true)

  engine = REFUSED_DRAWN[src] ? 'refused' : 'any'
  cases << case_line(COUNTED_LOOP_GROUP, src, '', engine, hays, starts: true)
end
replace_groups([COUNTED_LOOP_GROUP], cases)
puts "#{cases.size} cases written"
