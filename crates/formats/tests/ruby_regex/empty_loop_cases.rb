# Generate the cases of cases.json's group EMPTY_LOOP_GROUP (loops whose body may match the empty
# string, with capture groups that may too, repeated from none without a maximum: Onigmo tells
# their empty iterations by the capture groups' values from before them, which logferry runs on
# Oniguruma with Onigmo's test in callouts) with the local Ruby, replacing that group's earlier
# cases: `ruby crates/formats/tests/ruby_regex/empty_loop_cases.rb`, then re-record the goldens
# with record.rb. Curated patterns, then DRAWS drawn at random (seeded) from a small grammar of
# such loops in context; every pattern must be one Ruby compiles.
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

def draw(rng)
  names = rng.rand(4).zero? ? [] : nil
  body = Array.new(rng.rand(1..2)) { sequence(rng, 1, names) }.join('|')
  loop_ = "(?:#{body})#{QUANTIFIERS.sample(random: rng)}"
  flags = rng.rand(6).zero? ? 'i' : ''
  ["#{BEFORE.sample(random: rng)}#{loop_}#{AFTER.sample(random: rng)}", flags]
end

def texts(rng)
  Array.new(8) { Array.new(rng.rand(0..7)) { ALPHABET.sample(random: rng) }.join }.uniq
end

def compiles?(src, flags)
  Regexp.new(src, flags.include?('i') ? Regexp::IGNORECASE : 0)
  true
rescue RegexpError
  false
end

# Does Ruby match `src` on every text within 10 ms? (Nested repetitions before a failing end can
# take Onigmo exponential time, past logferry's retry budget of 10 million backtracks.)
def quick?(src, flags, texts)
  re = Regexp.new(src, flags.include?('i') ? Regexp::IGNORECASE : 0)
  pid = fork do
    texts.each { |t| re.match(t) }
    exit! 0
  end
  20.times do
    return true if Process.waitpid(pid, Process::WNOHANG)

    sleep 0.0005
  end
  Process.kill(9, pid)
  Process.wait(pid)
  false
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
replace_groups([EMPTY_LOOP_GROUP], cases)
puts "#{cases.size} cases written"
