# Generate the cases of cases.json's groups REF_LOOP_GROUP (loops whose body holds references or
# calls, \1, \k<n>, \g<1>, \g<n>, \g<-1>, \g<0>, in capture groups or not) and CALLED_GROUP
# (calls of a group whose body is a greedy repetition without a maximum, with an item after it)
# with the local Ruby, replacing those groups' earlier cases:
# `ruby crates/formats/tests/ruby_regex/ref_loop_cases.rb`, then re-record the goldens with
# record.rb. Curated patterns (Ruby's result, or logferry's refusal), then draws at random
# (seeded) from three small grammars (DRAWS, DRAWS_TWO for the first group, DRAWS_THREE for the
# second), each compared from every start position; a drawn pattern logferry refuses is listed in
# ref_loop_refused.txt (so marked 'refused': list them again after a change of the rules, with
# logferry's verdict on each pattern of both groups); every pattern must be one Ruby compiles.
# Where Onigmo's search shortcut returns a match beginning before a later start (see
# shortcut_cases.rb), the case carries `meant`, the pattern with |\A(?!) added, whose matches
# are Ruby's own rules.
require_relative 'cases_file'

$VERBOSE = nil

REF_LOOP_GROUP = 'Loops whose body holds references or calls, (x)(?:a|(\\g<1>))+, (x)(?:a|(\\1))+, rouge\'s (\\{(?:[^\\{\\}]|(\\g<0>))+\\}): a call may match the empty string where the group it calls may, a reference where its group may capture it, so a loop whose body cannot runs as before; a call captures the group it calls, so a loop that may be empty with a call of a group that may be empty is refused like one with a capture group that may. Curated and drawn at random by ref_loop_cases.rb.'

# Curated: [pattern, flags, engine].
CURATED = [
  # The sweep's finds: the called or referenced group cannot be empty, nor the loop's body.
  ['(x)(?:a|(\\g<1>))+', '', 'oniguruma'], ['(x)(?:a|(\\1))+', '', 'oniguruma'],
  ['(\\{(?:[^\\{\\}]|(\\g<0>))+\\})', '', 'oniguruma'],
  ['(x)(?:a|(\\k<1>))*c', '', 'oniguruma'], ["(x)(?:a|(\\g'1'))+", '', 'oniguruma'],
  ['(?<x>x)(?:a|(?<c>\\g<x>))+', '', 'oniguruma'], ['(?<x>x)(?:a|(?<c>\\k<x>))+$', '', 'oniguruma'],
  ['([ab])(?:x|(\\g<-2>b?))*$', '', 'oniguruma'], ['(?:x|(\\g<+1>))*(ab?)', '', 'oniguruma'],
  ['(?<p>\\((?:[^()]|(?<q>\\g<p>))*\\))', '', 'oniguruma'], ['(\\((?:[^()]|(\\g<1>))*\\))', '', 'oniguruma'],
  ['(x)(?:a|(\\g<1>)){1,3}', '', 'oniguruma'], ['(x)(?:a|(\\g<1>)){0,3}?b', '', 'oniguruma'],
  ['(x)(?:a|(\\1)){2,4}', '', 'oniguruma'], ['(x)(?:a|\\k<1>){2,3}', '', 'oniguruma'],
  ['(x)(?:a?|(\\g<1>))+c', '', 'oniguruma'], ['(x)(?:a|(\\g<1>))+', 'i', 'oniguruma'],
  ['(x.)(?:a|(\\1))+', 'm', 'oniguruma'], ['(x)(?:a|(\\1))+', 'i', 'oniguruma'],
  ['(a|b\\g<1>)(?:x|(\\g<1>))+c', '', 'oniguruma'], ['(a\\g<2>?)(b\\g<1>?)(?:x|(\\g<1>))+', '', 'oniguruma'],
  ['((a?)x)(?:b|\\g<1>)*c', '', 'oniguruma'], ['(x)(y)(?:a|(\\12))*', '', 'linear'],
  # The group may be empty: a loop whose body may be empty with it in a capture group, or called
  # (a call captures the group it calls, and the groups in it), stays refused.
  ['(a?)(?:x|(\\g<1>))+c', '', 'refused'], ['(a?)(?:x|(\\1))+c', '', 'refused'],
  ['(?<n>b*)(?:x|(?<w>\\k<n>))+c', '', 'refused'], ['(b*)(?:x|(\\g<-2>))+c', '', 'refused'],
  ['(b*)(?:(?:\\g<-1>)|x,?){1,2}$', '', 'refused'], ['(?<n>a?)(?:\\b|(\\g<n>a?)|x)+a', '', 'refused'],
  ['((a?)x)(?:b*|\\g<1>)*c', '', 'refused'], ['(a|b\\g<1>|)(?:x|(\\g<1>))+c', '', 'refused'],
  # A reference with a level is read by its group (it matches what the group captured at some
  # level of recursion); a conditional with an empty branch may be empty.
  ['(x)(?:a|(\\k<1+0>))+', '', 'oniguruma'], ['(x)(?:a|((?(1)x|)))+', '', 'refused']
]
CURATED_TEXTS = ['xaxa', 'xxxa', 'ax', 'xa', '{a{b}c}', '{{}}', '{x{y{z}}}w}', '(a(b)c)', '((a)(b))', 'aab',
                 'abab', 'XAxa', "xa\nxa", 'bxaxb', '', 'c', 'xc', 'xaxc', 'aaxbc', 'abxabbc', 'xyxy12']

# First grammar: a group, then a loop over alternatives one of which holds a reference or call
# to it (or the loop first, the group after it).
DEFS = ['(x)', '(a|b)', '(a?)', '(ab*)', '(b*)', '()', '([ab])', '(x?)', '(a|)', '(b+?)']
NAMED_DEFS = ['(?<n>x)', '(?<n>a?)', '(?<n>[ab])', '(?<n>b*)', '(?<n>)']
REFS = ['\\g<1>', '\\1', '\\k<1>', '\\g<-1>', "\\g'1'"]
NAMED_REFS = ['\\g<n>', '\\k<n>', "\\k'n'"]
ITEMS = ['a', 'b', 'a?', 'b*', 'x', ',?', '[ab]', '\\b']
QUANTIFIERS = ['*', '+', '*?', '+?', '{0,3}', '{1,2}', '{0,3}?', '{2,3}', '{1,}', '?']
BEFORE = ['', '', '^', 'a', '\\A']
AFTER = ['', '', 'c', '$', '\\z', 'a', 'b$']
ALPHABET = %w[a b x , c a b x]

def draw_one(rng)
  named = rng.rand(4).zero?
  defn = (named ? NAMED_DEFS : DEFS).sample(random: rng)
  ref = (named ? NAMED_REFS : REFS).sample(random: rng)
  wrap = ["(#{ref})", "(#{ref}?)", "(a#{ref})", "(#{ref}|b)", ref, "(?:#{ref})", "(#{ref}a?)"].sample(random: rng)
  wrap = wrap.sub('(', '(?<w>') if named && wrap.start_with?('(') && !wrap.start_with?('(?') && rng.rand(2).zero?
  alts = [wrap] + Array.new(rng.rand(0..2)) { Array.new(rng.rand(1..2)) { ITEMS.sample(random: rng) }.join }
  body = alts.shuffle(random: rng).join('|')
  body = "#{ITEMS.sample(random: rng)}(?:#{body})" if rng.rand(3).zero?
  loop_ = "(?:#{body})#{QUANTIFIERS.sample(random: rng)}"
  src = rng.rand(5).zero? ? "#{loop_}#{defn}" : "#{defn}#{loop_}"
  ["#{BEFORE.sample(random: rng)}#{src}#{AFTER.sample(random: rng)}", ['', '', '', 'i', 'm'].sample(random: rng)]
end

# Second grammar: recursion (\g<0>, a group calling itself), groups with groups in them called,
# forward calls, references in the loop to its own groups.
ATOMS = ['a', 'b', 'a?', 'b*', ',?', '[ab]', '\\b', '[^()]', 'x']
ALPHABET2 = %w[a b x ( ) ( ) , c]

def draw_two(rng)
  atom = -> { ATOMS.sample(random: rng) }
  q = ['*', '+', '*?', '+?', '{0,3}', '{1,2}', '{0,3}?', '{2,3}', '{1,}'].sample(random: rng)
  q2 = ['*', '+', '*?', '?', '{0,2}'].sample(random: rng)
  inner = ["(#{atom.call})", "(#{atom.call}#{atom.call})", "(?:#{atom.call})", atom.call].sample(random: rng)
  src = case rng.rand(8)
        when 0 then "(\\((?:#{atom.call}|(\\g<0>))#{q}\\))"
        when 1 then "(\\((?:[^()]|#{inner}|\\g<1>)#{q}\\))"
        when 2 then "(?<p>\\((?:[^()]#{q2}|\\g<p>)#{q}\\))"
        when 3 then "(#{atom.call}(#{atom.call})#{atom.call})(?:#{atom.call}|\\g<1>)#{q}"
        when 4 then "(?:#{atom.call}|\\g<#{['1', '+1'].sample(random: rng)}>)#{q}(#{atom.call}#{atom.call})"
        when 5 then "(?:(#{atom.call})|\\1#{atom.call})#{q}"
        when 6 then "(?:(#{atom.call}|#{atom.call})#{['\\1', '\\k<1>', '\\1?'].sample(random: rng)})#{q}"
        else "(#{atom.call})(?:#{atom.call}|(#{['\\g<1>', '\\1', '\\k<-2>', '\\g<-2>'].sample(random: rng)}#{atom.call}))#{q}"
        end
  ["#{['', '^', '\\A', 'a'].sample(random: rng)}#{src}#{['', '$', 'c', '\\z'].sample(random: rng)}",
   ['', '', 'i', 'm'].sample(random: rng)]
end

CALLED_GROUP = 'Calls of a group whose body is a greedy repetition without a maximum, with an item after it, (b*)b\\g<1>: Onigmo compiles the repetition once, for where the group stands, peeking at the first character of what follows it there (or, before another character, making it atomic, as Oniguruma does), and a call runs that code elsewhere: refused where the peek or the atomic reading under i may matter. Curated and drawn at random by ref_loop_cases.rb.'

CALLED_CURATED = [
  ['(b*)b\\g<1>', '', 'refused'], ['((?:b*))b\\g<1>', '', 'refused'], ['(?<n>b+)b\\g<n>', '', 'refused'],
  ['(\\p{L}*)b\\g<-1>', '', 'refused'], ['(b*)[b]\\g<1>', '', 'refused'], ['(b*)(?=b)\\g<1>', '', 'refused'],
  ["\\A(b*)(?:b(?:b\\b|b*b|(?:\\g'1')))+?", '', 'refused'], ['(b*)x\\g<1>b', 'i', 'refused'],
  ['(b{2,})b\\g<1>', '', 'refused'],
  ['(b*)c\\g<1>', '', 'oniguruma'], ['(b*)c\\g<1>b', '', 'oniguruma'], ['(b*)b\\g<1>b', '', 'oniguruma'],
  ['(b*)$\\g<1>', '', 'oniguruma'], ['(b*?)b\\g<1>', '', 'oniguruma'], ['(b*+)b\\g<1>', '', 'oniguruma'],
  ['(b{2,5})b\\g<1>', '', 'oniguruma'], ['(b*)\\w\\g<1>', '', 'oniguruma'], ['(b*)[bc]\\g<1>', '', 'oniguruma'],
  ['(b*)(?:b|c)\\g<1>', '', 'oniguruma'], ['(b*)b?\\g<1>', '', 'oniguruma'], ['(b*)\\g<1>', '', 'oniguruma'],
  ['(b*)\\d\\g<1>', 'i', 'oniguruma'], ['(b*)b\\1', '', 'oniguruma']
]
CALLED_TEXTS = ['b', 'bb', 'bbb', 'xbb', 'cbb', 'bcbb', 'xb', 'BxB', 'b1b', 'bxbb', 'abab', '', 'c', 'bbc', 'xbxb']

# Third grammar: a group of a repetition, an item after it, then calls of it.
REPEATED = ['b*', 'b+', '[ab]*', '\\w*', 'a*', '(?:ab)*', 'b{2,}', 'b{1,}', '.*', 'b*?', 'b*+', '(b*)', '(?:b+)', 'b{0,3}']
FOLLOWERS = ['[ac]', '[xc]', '\\d', ',', '\\s', '[^b]', '\\W', 'b', 'a', 'c', '[b]', '[ab]', '(?:b|c)', 'b?', '(b)',
             '(?=b)', '(?!b)', '\\b', '$', 'x', '.', '\\w', '(?:bc)+', '(?:b)*', '', 'bb', '(?:b)', '(?>b)', '(?i:b)', 'B',
             '\\g<1>', '\\1']
CALLS = ['\\g<1>', '\\g<1>b', 'a\\g<1>', '(?:x|\\g<1>)+', '\\g<1>$', '(?:\\g<1>c)*', 'b\\g<-1>']
ALPHABET3 = %w[a b b c x B]

def draw_three(rng)
  src = "#{['', '^', 'x'].sample(random: rng)}(#{REPEATED.sample(random: rng)})#{FOLLOWERS.sample(random: rng)}" \
        "#{CALLS.sample(random: rng)}#{['', '$', 'c'].sample(random: rng)}"
  [src, ['', '', 'i'].sample(random: rng)]
end

# Ruby's first matches of `src` from each start of each text (to tell where the search shortcut
# returns a match beginning before the start).
def matches(src, flags, texts)
  opts = (flags.include?('i') ? Regexp::IGNORECASE : 0) | (flags.include?('m') ? Regexp::MULTILINE : 0)
  re = Regexp.new(src, opts)
  texts.map { |t| (0..t.size).map { |p| m = re.match(t, p); m && (0...m.size).map { |g| m.offset(g) } } }
end

DRAWS = Integer(ENV.fetch('REF_LOOP_DRAWS', '400'))
DRAWS_TWO = Integer(ENV.fetch('REF_LOOP_DRAWS_TWO', '200'))
DRAWS_THREE = Integer(ENV.fetch('REF_LOOP_DRAWS_THREE', '300'))
REFUSED_PATH = File.join(__dir__, 'ref_loop_refused.txt')
REFUSED_DRAWN = File.exist?(REFUSED_PATH) ? File.read(REFUSED_PATH).split("\n").to_h { |l| [l, true] } : {}

def drawn_case(group, src, flags, hays)
  meant = matches(src, flags, hays) == matches("#{src}|\\A(?!)", flags, hays) ? nil : "#{src}|\\A(?!)"
  engine = REFUSED_DRAWN["/#{src}/#{flags}"] ? 'refused' : 'any'
  case_line(group, src, flags, engine, hays, meant, starts: true)
end

seed = Integer(ENV.fetch('REF_LOOP_SEED', '28'))
cases = CURATED.map { |src, flags, engine| case_line(REF_LOOP_GROUP, src, flags, engine, CURATED_TEXTS, starts: true) }
cases += CALLED_CURATED.map { |src, flags, engine| case_line(CALLED_GROUP, src, flags, engine, CALLED_TEXTS, starts: true) }
seen = (CURATED + CALLED_CURATED).to_h { |s, f, _| [[s, f], true] }
[[DRAWS, :draw_one, ALPHABET, ['xaxa', 'xxxa', 'aXbA', 'abab', 'xabx', 'aab'], REF_LOOP_GROUP],
 [DRAWS_TWO, :draw_two, ALPHABET2, ['(a(b)c)', '((a)(b))', 'xaxa', 'abab', 'aabb', '(()', 'A(B)'], REF_LOOP_GROUP],
 [DRAWS_THREE, :draw_three, ALPHABET3, ['bb', 'xbb', 'cbb', 'bxbb'], CALLED_GROUP]].each_with_index do |(count, grammar, alphabet, extra, group), i|
  # (A generator each, so that one grammar's draws do not move the other's.)
  rng = Random.new(seed + i)
  drawn = 0
  while drawn < count
    src, flags = send(grammar, rng)
    next if seen[[src, flags]] || !compiles?(src, flags)

    seen[[src, flags]] = true
    hays = Array.new(8) { Array.new(rng.rand(0..8)) { alphabet.sample(random: rng) }.join }.uniq + extra
    # (Tried thrice: a pattern quick once is kept, so that a busy machine draws the same cases.)
    next unless 3.times.any? { quick?(src, flags, hays, starts: true) && quick?(src, flags, common_haystacks) }

    cases << drawn_case(group, src, flags, hays)
    drawn += 1
  end
end
replace_groups([REF_LOOP_GROUP, CALLED_GROUP], cases)
puts "#{cases.size} cases written"
