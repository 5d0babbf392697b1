# Generate the cases of cases.json's group LEVEL_COND_GROUP (references with a recursion level,
# \k<1+0>, \k<n-1>, \k<-1+0>, and conditionals, (?(1)a|b), (?(<n>)a|b), inside loops of every
# kind, look-arounds, after calls, beside \K, and in groups that call themselves) with the local
# Ruby, replacing that group's earlier cases: `ruby crates/formats/tests/ruby_regex/level_cond_cases.rb`,
# then re-record the goldens with record.rb. Curated patterns (Ruby's result, or logferry's
# refusal), then draws at random (seeded) from two small grammars, each compared from every
# start position; a drawn pattern logferry refuses is listed in level_cond_refused.txt (so
# marked 'refused': list them again after a change of the rules); every pattern must be one Ruby
# compiles. With LEVEL_COND_HUNT=path, it writes instead that many draws of each grammar (seed
# LEVEL_COND_SEED) with Ruby's first match from every start of each text, one JSON line a
# pattern, for a hunt.
require_relative 'cases_file'

$VERBOSE = nil

LEVEL_COND_GROUP = 'References with a recursion level (\\k<1+0>, \\k<n-1>, \\k<-1+0>) and conditionals ((?(1)a|b), (?(<n>)a|b)) in loops of every kind, look-arounds, after calls, beside \\K and in groups that call themselves. Curated and drawn at random by level_cond_cases.rb.'

# Curated: [pattern, flags, engine].
CURATED = [
  ['\\A(?<a>|.|(?:(?<b>.)\\g<a>\\k<b+0>))\\z', '', 'oniguruma'], ['(?<a>(?<b>[ab])\\g<a>?\\k<b-1>?)', '', 'oniguruma'],
  # A conditional of one branch is Onigmo's (?(1)a|): Oniguruma 6.9 failed it followed by
  # anything, and where the condition is false (these ran silently wrong).
  ['(b)(?(1)a)b', '', 'oniguruma'], ['(b)?(?(1)a)c', '', 'oniguruma'], ['(b)(?(1))c', '', 'oniguruma'],
  ['^([ab])\\g<1>(?:(?:(?(1)a)))?+b$', 'm', 'oniguruma'], ['(x)\\g<1>(?>((?(1)b*)?))a', '', 'oniguruma'],
  ['(?!((?(2))|b))(a|b)', '', 'oniguruma'], ['(b)(?(1)a(?i)B|c)x', '', 'oniguruma'],
  ['(?<n>b)?(?(<n>)a)c', '', 'oniguruma'], ['(x)(?:a|((?(1)x)))+', '', 'refused'],
  # A body that is one non-capturing group of two alternatives is the conditional's two branches
  # (Onigmo keeps no node for the group; three are Ruby's error), under x with white space around
  # it too; an option group is one branch.
  ['(x)?(?(1)(?:a|b))c', '', 'oniguruma'], ['(x)?(?(1)(?:(?:a|b)))c', '', 'oniguruma'],
  ['(x)?(?(1)(?:(?i)a|b))c', '', 'oniguruma'], ['(x)?(?(1) (?:a|b) )c', 'x', 'oniguruma'],
  ['(x)?(?(1)(?i:a|b))c', '', 'oniguruma'], ['(x)?(?(1)(?:a|b|d))c', '', 'refused'],
  # Onigmo reads no level in a condition.
  ['(?<n>a)?(?(<n-1>)x|y)', '', 'oniguruma'], ['(?<n>a)?(?(<n+1>)x|y)', '', 'oniguruma'],
  ['(a)?(?(<1-1>)x|y)', '', 'oniguruma'], ["(?<n>a)?(?('n-1')x|y)", '', 'oniguruma'],
  ['(?<a>(?<b>[ab])(?:\\g<a>|x)(?(<b-1>)\\k<b+0>|y))', '', 'oniguruma'],
  # A condition naming several groups: Onigmo asks the leftmost (Oniguruma would ask any; the
  # leftmost is given a name of its own), and that group's name still reads as Ruby reads it.
  ['(?:(?<n>a)|(?<n>b))(?(<n>)x|y)', '', 'oniguruma'], ['(?<n>a)?(?<n>b)?(?(<n+0>)x|y)', '', 'oniguruma'],
  ['(?<n>a)?(?<m>b)?(?<n>c)?(?(<n>)x|y)', '', 'oniguruma'], ['(?:(?<n>a)|(?<n>b))+(?(<n>)x|y)', '', 'oniguruma'],
  ['(?<n>(?<n>a)(?(<n>)x|y))', '', 'oniguruma'], ['(?<n>a)(?(<n>)x|y)(?<n>b)', '', 'oniguruma'],
  ['(?<n>a)?(?<n>b)?(?(<n>)x|y)\\k<n>', '', 'oniguruma'], ['\\A(?:(?<n>a)|(?<n>b))(?(<n>)x|y\\g<0>?)', '', 'oniguruma'],
  ["(?:(?<n>a)|(?<n>b))(?('n')x)c", '', 'oniguruma'], ['(?:(?<n>a)|(?<n>b))(?(<n>)(?:x|y))', 'i', 'oniguruma'],
  # A number in a condition beside named groups (in <> or ''; bare, it is Ruby's error, as in a
  # reference): counted over every group, named or not, and back from the condition with a sign;
  # an unnamed group captures nothing then, so its condition never holds.
  ['(?<n>a)?(?(<1>)x|y)', '', 'oniguruma'], ["(?<n>a)?(?('1')x|y)", '', 'oniguruma'],
  ['(?<n>a)?(?(<1+0>)x|y)', '', 'oniguruma'], ['(?<n>a)?(?(<-1>)x|y)', '', 'oniguruma'],
  ['(?<n>a)?(?<n>b)?(?(<2>)x|y)', '', 'oniguruma'], ['(?<n>a)?(?<n>b)?(?(<-2>)x|y)', '', 'oniguruma'],
  ['(?<n>a)?(?<m>b)?(?(<2>)x|y)', '', 'oniguruma'], ['(b)?(?<n>a)?(?(<2>)x|y)', '', 'oniguruma'],
  ['(b)?(?<n>a)?(?(<1>)x|y)', '', 'oniguruma'], ['(b)(?<n>a)(?(<1>)x)', '', 'oniguruma'],
  ['(b)(?<n>a)(?(<-2>)(?<m>x)|y)z', '', 'oniguruma'], ['(?<n>a)?(b)?(?(<2>)(?:x|y))c', '', 'oniguruma'],
  ['(?<n>a)?(?(1)x|y)', '', 'refused'], ['(?<n>a)?(?(<3>)x|y)', '', 'refused'], ['(?<n>a)(?(<-2>)x|y)', '', 'refused'],
  # Before its group, Oniguruma takes no name (and beside names no number): refused.
  ['(?(<2>)x|y)(?<n>a)(?<m>b)', '', 'refused'],
  # A number counting back from the condition without names.
  ['(a)?(?(<-1>)x|y)', '', 'oniguruma'], ['(a)?(b)?(?(<-2>)x|y)', '', 'oniguruma'], ["(a)?(?('-1+0')x)c", '', 'oniguruma'],
  # A loop whose body may be empty with a capture group that may, and a conditional naming a
  # group of the body: refused whatever follows the group (the conditional reads whether it
  # matched in an iteration before); naming a group outside the loop, it runs.
  ['(?:(?(1)y)(a|))+c', '', 'refused'], ['(?:(a|)(?(1)y))*c', '', 'refused'],
  ['(?:(?(1)y|x)(a|))*c', '', 'oniguruma'], ['(a)?(?:(?(1)y)(b|))+c', '', 'oniguruma'],
  ['(?<n>x)?(?:(?(<n+0>)y|)(?<w>b|))*c', '', 'oniguruma'],
  # Such a loop whose body is one capture group, in a pattern with references, calls or
  # conditionals: refused where the group holds an alternation or a lazy item.
  ['a()(?:(\\1|b)){1,2}a', '', 'refused'], ['a()(?:(\\k<1+0>|b)){1,2}a', '', 'refused'],
  ['(?<n>b*)(?:(?<w>\\k<n>a?)){0,3}', '', 'oniguruma'],
  # A reference with a level is read by its group: a loop its group cannot make empty runs.
  ['(x)(?:a|(\\k<-1+0>))+c', '', 'oniguruma'], ['(?<n>x)(?:a|(?<w>\\k<n-1>))*c', '', 'oniguruma']
]
CURATED_TEXTS = ['xaxa', 'abcba', 'abba', 'aab', 'bab', 'bb', 'bac', 'c', 'cca', 'babx', 'bacx', 'bax', 'abab',
                 'xxba,ac', 'bc', 'xbc', 'xac', 'ac', 'ax', 'ay', 'bx', 'by', 'y', 'xAc', '', 'aba(b)', 'abx', 'bay',
                 'acx', 'axb', 'aybc', 'yab', 'baxz', 'bayz', 'abyc']

# First grammar: groups, then loops, look-arounds, calls and \K around conditionals and
# references with a level to them.
DEFS = ['(x)', '(a|b)', '(a?)', '(b*)', '()', '([ab])', '(a|)', '(b+?)', '(x|\\g<1>a)']
NAMED_DEFS = ['(?<n>x)', '(?<n>a?)', '(?<n>[ab])', '(?<n>b*)', '(?<n>)', '(?<n>a|b)']
ITEMS = ['a', 'b', 'a?', 'b*', 'x', ',?', '[ab]', '\\b', '']

def cond(rng, named, inner)
  c = named ? ['<n>', "'n'", '<w>'].sample(random: rng) : ['1', '1', '2'].sample(random: rng)
  yes = ITEMS.sample(random: rng)
  no = ITEMS.sample(random: rng)
  yes = inner if inner && rng.rand(3).zero?
  [rng.rand(4).zero? ? "(?(#{c})#{yes})" : "(?(#{c})#{yes}|#{no})"].first
end

def level_ref(rng, named)
  if named
    ['\\k<n+0>', '\\k<n-1>', '\\k<n+1>', "\\k'n+0'", '\\k<w+0>'].sample(random: rng)
  else
    ['\\k<1+0>', '\\k<1-1>', '\\k<1+1>', '\\k<-1+0>', '\\k<2+0>', '\\k<-2+0>'].sample(random: rng)
  end
end

QUANTIFIERS = ['*', '+', '*?', '+?', '*+', '++', '?+', '{0,3}', '{1,2}', '{2}', '{0,3}?', '{2,3}', '{1,}', '?',
               '??', '{2}+', '{1,3}+']
BEFORE = ['', '', '^', 'a', '\\A', 'x']
AFTER = ['', '', 'c', '$', '\\z', 'a', 'b$']
ALPHABET = %w[a b x , c a b x]

def draw_one(rng)
  named = rng.rand(3).zero?
  defn = (named ? NAMED_DEFS : DEFS).sample(random: rng)
  ref = rng.rand(2).zero? ? cond(rng, named, nil) : level_ref(rng, named)
  ref = cond(rng, named, ref) if rng.rand(5).zero?
  wrap = ["(#{ref})", "(#{ref}?)", "(a#{ref})", "(#{ref}|b)", ref, "(?:#{ref})", "(#{ref}a?)"].sample(random: rng)
  wrap = wrap.sub('(', '(?<w>') if named && wrap.start_with?('(') && !wrap.start_with?('(?') && rng.rand(2).zero?
  alts = [wrap] + Array.new(rng.rand(0..2)) { Array.new(rng.rand(1..2)) { ITEMS.sample(random: rng) }.join }
  body = alts.shuffle(random: rng).join('|')
  body = "#{ITEMS.sample(random: rng)}(?:#{body})" if rng.rand(3).zero?
  ctx = case rng.rand(10)
        when 0 then "(?=#{body})"
        when 1 then "(?!#{body})"
        when 2 then "(?=(?:#{body})#{QUANTIFIERS.sample(random: rng)})"
        when 3 then "(?>#{body})"
        else "(?:#{body})#{QUANTIFIERS.sample(random: rng)}"
        end
  call = rng.rand(3).zero? ? (named ? '\\g<n>' : ['\\g<1>', '\\g<-1>'].sample(random: rng)) : ''
  k = rng.rand(4).zero? ? '\\K' : ''
  parts = rng.rand(6).zero? ? [ctx, defn, call] : [defn, call, ctx]
  parts.insert(rng.rand(parts.size + 1), k)
  ["#{BEFORE.sample(random: rng)}#{parts.join}#{AFTER.sample(random: rng)}", ['', '', '', 'i', 'm'].sample(random: rng)]
end

# Second grammar: groups that call themselves (or each other) with references with a level and
# conditionals inside them, in context.
ATOMS = ['a', 'b', 'a?', 'b*', '[ab]', '.', 'x', '\\(', '\\)', '[^()]']
ALPHABET2 = %w[a b x ( ) a b c]

def draw_two(rng)
  atom = -> { ATOMS.sample(random: rng) }
  lref = -> { ['\\k<b+0>', '\\k<b-1>', '\\k<b+1>', '\\k<a+0>', '\\k<b>', '(?(<b>)\\k<b+0>|x)', '(?(<b>)a|b)',
               "\\k'b+0'", '\\k<b+0>?', '(?:\\k<b+0>)'].sample(random: rng) }
  q = ['', '', '?', '*', '+', '{0,2}', '*?', '+?', '?+', '{1,2}'].sample(random: rng)
  inner = case rng.rand(6)
          when 0 then "(?<b>#{atom.call})\\g<a>#{q}#{lref.call}"
          when 1 then "(?<b>#{atom.call})(?:\\g<a>|#{atom.call})#{q}#{lref.call}"
          when 2 then "(?<b>#{atom.call}#{atom.call})\\g<a>#{lref.call}"
          when 3 then "(?:(?<b>#{atom.call})#{lref.call})#{q}\\g<a>?"
          when 4 then "(?<b>#{atom.call})(?=#{lref.call})\\g<a>#{q}"
          else "(?<b>#{atom.call})(?:#{lref.call}|\\g<a>)#{q}"
          end
  alt = ['', '.', atom.call, '|'].sample(random: rng)
  a = "(?<a>#{alt.empty? ? '' : "#{alt}|"}#{inner})"
  before = ['', '\\A', '^', 'x', '(?<b>c)?'].sample(random: rng)
  after = ['', '\\z', '$', 'c', '\\k<b>', '(?(<b>)y|z)', '\\k<b+0>'].sample(random: rng)
  src = case rng.rand(4)
        when 0 then "#{before}#{a}#{after}"
        when 1 then "#{before}(?:#{a})#{['+', '*', '{2}', '+?'].sample(random: rng)}#{after}"
        when 2 then "#{before}(?=#{a})#{atom.call}#{after}"
        else "#{before}#{a}\\K#{atom.call}#{after}"
        end
  [src, ['', '', 'i', 'm'].sample(random: rng)]
end

# Third grammar: conditionals in every form Ruby takes (by number, by name with and without a
# level, by a name several groups have, by number or counting back beside named groups, one
# branch or two, a body that is a group of alternatives) around groups, loops, look-arounds and
# calls.
ALPHABET3 = %w[a b x y c a b]

def draw_three(rng)
  item = -> { ['a', 'b', 'x', 'y', 'a?', 'b*', '[ab]', '\\b', '', '(?:a|b)', 'a+?'].sample(random: rng) }
  groups = [['(a)', '(?<n>a)'], ['(b)?', '(?<n>b)?'], ['(a|)', '(?<n>a|)'], ['(x*)', '(?<n>x*)'],
            ['(?:(a)|b)', '(?:(?<n>a)|(?<n>b))'], ['(a)?(b)?', '(?<n>a)?(?<m>b)?'], ['(b)?(a)?', '(b)?(?<n>a)?'],
            ['(a)?(b)?', '(?<n>a)?(?<n>b)?'], ['(?:(a)|b)+', '(?:(?<n>a)|(?<n>b))+']]
  named = rng.rand(2).zero?
  defn = groups.sample(random: rng)[named ? 1 : 0]
  c = if named
        ['<n>', "'n'", '<n+0>', '<n-1>', '<n+1>', '<m>', '<1>', "'2'", '<-1>', '<1+0>'].sample(random: rng)
      else
        ['1', '2', '<1>', "'1'", '<1+0>', '<1-1>', '<-1>'].sample(random: rng)
      end
  body = case rng.rand(6)
         when 0 then item.call
         when 1 then "#{item.call}|#{item.call}"
         when 2 then "(?:#{item.call}|#{item.call})"
         when 3 then "(?:(?:#{item.call}|#{item.call}))"
         when 4 then "(?:#{item.call}|#{item.call})#{item.call}"
         else "(?i:#{item.call}|#{item.call})"
         end
  cnd = "(?(#{c})#{body})"
  q = ['', '', '*', '+', '?', '{2}', '*?', '+?', '?+', '{1,2}'].sample(random: rng)
  core = case rng.rand(7)
         when 0 then "#{defn}#{cnd}#{q}"
         when 1 then "(?:#{defn}#{cnd})#{q}"
         when 2 then "(?:#{cnd}#{defn})#{q}"
         when 3 then "#{defn}(?=#{cnd}#{item.call})"
         when 4 then "#{defn}(?!#{cnd}#{item.call})"
         when 5 then "#{defn}\\K#{cnd}#{q}"
         else "#{defn}#{named ? '\\g<n>' : '\\g<1>'}#{cnd}#{q}"
         end
  ["#{['', '', '^', 'x', '\\A'].sample(random: rng)}#{core}#{['', '', 'c', '$', '\\z', 'y'].sample(random: rng)}",
   ['', '', '', 'i', 'm', 'x'].sample(random: rng)]
end

def matches(src, flags, texts)
  opts = (flags.include?('i') ? Regexp::IGNORECASE : 0) | (flags.include?('m') ? Regexp::MULTILINE : 0) |
         (flags.include?('x') ? Regexp::EXTENDED : 0)
  re = Regexp.new(src, opts)
  texts.map { |t| (0..t.size).map { |p| m = re.match(t, p); m && (0...m.size).map { |g| m.offset(g) } } }
end

def draws(rng, count, grammar, alphabet, extra, seen)
  out = []
  while out.size < count
    src, flags = send(grammar, rng)
    next if seen[[src, flags]] || !compiles?(src, flags)

    seen[[src, flags]] = true
    hays = Array.new(8) { Array.new(rng.rand(0..8)) { alphabet.sample(random: rng) }.join }.uniq + extra
    next unless 3.times.any? { quick?(src, flags, hays, starts: true) && quick?(src, flags, common_haystacks) }
    next unless 3.times.any? { quick?("#{src}|\\A(?!)", flags, hays, starts: true) }

    out << [src, flags, hays]
  end
  out
end

GRAMMARS = [[:draw_one, ALPHABET, %w[xaxa xxxa abab xabx aab]], [:draw_two, ALPHABET2, %w[abba abcba (a(b)a) xaax]],
            [:draw_three, ALPHABET3, %w[ax bx ay by xy aby bay]]].freeze

if (hunt = ENV['LEVEL_COND_HUNT'])
  seed = Integer(ENV.fetch('LEVEL_COND_SEED', '1'))
  count = Integer(ENV.fetch('LEVEL_COND_COUNT', '1000'))
  seen = {}
  File.open(hunt, 'w') do |f|
    only = ENV['LEVEL_COND_ONLY']&.split(',')&.map(&:to_i)
    GRAMMARS.each_with_index do |(grammar, alphabet, extra), i|
      next if only && !only.include?(i)

      draws(Random.new(seed + i), count, grammar, alphabet, extra, seen).each do |src, flags, hays|
        f.puts JSON.generate({ 'src' => src, 'flags' => flags, 'hays' => hays, 'ruby' => matches("#{src}|\\A(?!)", flags, hays).map { |h| h.map { |m| m&.map { |o| o[0] && o } } } })
      end
    end
  end
  exit
end

DRAWS = Integer(ENV.fetch('LEVEL_COND_DRAWS', '300'))
DRAWS_TWO = Integer(ENV.fetch('LEVEL_COND_DRAWS_TWO', '200'))
DRAWS_THREE = Integer(ENV.fetch('LEVEL_COND_DRAWS_THREE', '200'))
REFUSED_PATH = File.join(__dir__, 'level_cond_refused.txt')
REFUSED_DRAWN = File.exist?(REFUSED_PATH) ? File.read(REFUSED_PATH).split("\n").to_h { |l| [l, true] } : {}

def drawn_case(src, flags, hays)
  meant = matches(src, flags, hays) == matches("#{src}|\\A(?!)", flags, hays) ? nil : "#{src}|\\A(?!)"
  engine = REFUSED_DRAWN["/#{src}/#{flags}"] ? 'refused' : 'any'
  case_line(LEVEL_COND_GROUP, src, flags, engine, hays, meant, starts: true)
end

seed = Integer(ENV.fetch('LEVEL_COND_SEED', '29'))
cases = CURATED.map { |src, flags, engine| case_line(LEVEL_COND_GROUP, src, flags, engine, CURATED_TEXTS, starts: true) }
seen = CURATED.to_h { |s, f, _| [[s, f], true] }
GRAMMARS.zip([DRAWS, DRAWS_TWO, DRAWS_THREE]).each_with_index do |((grammar, alphabet, extra), count), i|
  draws(Random.new(seed + i), count, grammar, alphabet, extra, seen).each { |src, flags, hays| cases << drawn_case(src, flags, hays) }
end
replace_groups([LEVEL_COND_GROUP], cases)
puts "#{cases.size} cases written"
