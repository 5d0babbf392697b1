# Shared by construct_cases.rb: a small grammar of Ruby regexp constructs (look-arounds nested in
# every combination, anchors, captures and back-references, subexpression calls, conditionals,
# the absent operator, possessive/lazy/counted quantifiers, option groups, escapes, classes and
# properties, comments; options without a group, `(?a)` `(?u)` `(?d)` too) that builds random patterns, and texts that exercise them. Every draw
# comes from the generator passed in (a seeded Random), so the output is deterministic.
#
# A piece is [text, onig]: `onig` when logferry must run the pattern on Oniguruma (Rust's
# linear-time engine cannot run that construct with Ruby's meaning).

module ConstructGrammar
  LETTERS = %w[a b x y].freeze
  # Atoms Rust's engine runs.
  LINEAR_ATOMS = ['a', 'b', 'x', 'y', '.', '\d', '\w', '\s', '\h', '\H', '\W', '[ab]', '[^ab]',
                  '[a-x&&[^aeiou]]', '[[:^alpha:]]', '[[:alpha:]]', '[[:word:]]', '\p{Alpha}',
                  '\p{^Alpha}', '\P{Lu}', '\p{Lu}', '\x61', '\141', '\u0061', '\u{62}', '\t',
                  '\n', '\e', '\cA', '\C-b', '\0', '(?#c)', '\b', '\B', '\A', '\z', '$',
                  '[\w&&[^\d]]', '[a-c[x-y]]', '[^[:space:]]', '\.', '[\]]', '\x20'].freeze
  # Atoms only Oniguruma runs.
  ONIG_ATOMS = ['\G', '\K', '\R', '\X', '\Z', '^'].freeze
  QUANTIFIERS = ['*', '+', '?', '*?', '+?', '??', '{2}', '{1,2}', '{,2}', '{2,}', '{1,2}?',
                 '{0,1}'].freeze
  ONIG_QUANTIFIERS = ['*+', '++', '?+', '{1,2}+', '{2}?', '{2}+'].freeze

  # A random pattern: [text, onig, groups], `groups` the count of capture groups so far and
  # `names` the names used (the caller reads them for back-references).
  class Builder
    attr_reader :groups, :names

    def initialize(rng, named)
      @rng = rng
      @named = named
      @groups = 0
      @names = []
    end

    def pick(list) = list[@rng.rand(list.size)]
    def chance(p) = @rng.rand < p

    def atom
      if chance(0.25)
        [pick(ONIG_ATOMS), true]
      elsif chance(0.15) && (@groups.positive? || @names.any?)
        reference
      else
        [pick(LINEAR_ATOMS), false]
      end
    end

    # A back-reference or subexpression call to a group already opened.
    def reference
      if @named && @names.any?
        n = pick(@names)
        [pick(["\\k<#{n}>", "\\k'#{n}'", "\\k<#{n}+0>", "\\g<#{n}>"]), true]
      elsif @groups.positive?
        k = @rng.rand(1..@groups)
        [pick(["\\#{k}", "\\k<#{k}>", "\\k<-1>", "\\g<#{k}>", "\\g<-1>", "\\k<#{k}+0>"]), true]
      else
        ['a', false]
      end
    end

    def capture(inner)
      if @named
        n = pick(%w[n m v])
        @names << n
        ["(?<#{n}>#{inner[0]})", inner[1]]
      else
        @groups += 1
        ["(#{inner[0]})", inner[1]]
      end
    end

    def group(depth)
      inner = node(depth - 1)
      case @rng.rand(20)
      when 0, 1 then capture(inner)
      when 2 then ["(?:#{inner[0]})", inner[1]]
      when 3 then ["(?=#{inner[0]})", true]
      when 4 then ["(?!#{inner[0]})", true]
      when 5, 6 then ["(?<=#{inner[0]})", true]
      when 7, 8 then ["(?<!#{inner[0]})", true]
      when 9 then ["(?>#{inner[0]})", true]
      when 10 then ["(?~#{inner[0]})", true]
      when 11 then ["(?#{pick(%w[i -i m i-m mi x-i])}:#{inner[0]})", inner[1]]
      when 12 then ["(?#{pick(%w[a u d])}:#{inner[0]})", inner[1]]
      when 13
        other = node(depth - 1)
        cond = if @named && @names.any? then "<#{pick(@names)}>"
               elsif @groups.positive? then @rng.rand(1..@groups).to_s
               end
        cond ? ["(?(#{cond})#{inner[0]}|#{other[0]})", true] : ["(?:#{inner[0]}|#{other[0]})", inner[1] || other[1]]
      when 14 then ["#{pick(%w[(?i) (?m) (?-i) (?x) (?a) (?u) (?d) (?a) (?u) (?d)])}#{inner[0]}", inner[1]]
      when 15
        other = node(depth - 1)
        ["#{inner[0]}|#{other[0]}", inner[1] || other[1]]
      else
        inner
      end
    end

    def quantified(piece)
      return piece if piece[0].empty? || !chance(0.3)

      text = piece[0]
      # Quantify a single atom or a group; wrap a sequence.
      text = "(?:#{text})" unless text.match?(/\A(?:\\?.|\(.*\)|\[.*\])\z/m)
      if chance(0.2)
        [text + pick(ONIG_QUANTIFIERS), true]
      else
        [text + pick(QUANTIFIERS), piece[1]]
      end
    end

    def node(depth)
      return quantified(atom) if depth <= 0

      parts = Array.new(@rng.rand(1..3)) { chance(0.5) ? quantified(group(depth)) : quantified(atom) }
      [parts.map(&:first).join, parts.any?(&:last)]
    end
  end

  TEXT_CHARS = ['a', 'b', 'x', 'y', 'A', 'B', '1', '_', ' ', "\n", 'é', '-', "\t"].freeze

  # Texts for a pattern: random strings over a small alphabet, and strings of the pattern's own
  # letters (so the pieces meet).
  def self.texts(rng, count)
    out = []
    count.times do
      n = rng.rand(0..7)
      pool = rng.rand < 0.5 ? LETTERS : TEXT_CHARS
      out << Array.new(n) { pool[rng.rand(pool.size)] }.join
    end
    out.uniq
  end

  # A random pattern and whether it needs Oniguruma.
  def self.pattern(rng, depth)
    b = Builder.new(rng, rng.rand < 0.3)
    text, onig = b.node(depth)
    [text, onig]
  end
end
