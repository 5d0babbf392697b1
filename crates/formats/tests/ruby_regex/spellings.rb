# Shared by fold_cases.rb and escape_cases.rb: Ruby's full case folding, and texts spelled every
# way it allows (`ß` as `ss`, `ﬃ` as `fﬁ`, letters in either case, `ſ`, the Kelvin sign …).

FOLD = {}
UNF = Hash.new { |h, k| h[k] = [] }
((0..0xD7FF).to_a + (0xE000..0x10FFFF).to_a).each do |cp|
  c = cp.chr(Encoding::UTF_8)
  f = c.downcase(:fold)
  next if f == c
  FOLD[c] = f
  UNF[f] << c
end
def fold(c) = FOLD[c] || c

# A random spelling of the folded text f: each piece a character whose folding is the next one
# to three characters of f.
def respell(f)
  out = +''
  k = 0
  while k < f.size
    opts = (1..3).flat_map do |n|
      next [] if k + n > f.size
      key = f[k, n]
      (n == 1 ? [key] + UNF[key] : UNF[key]).select { |u| fold(u) == key }.map { |u| [u, n] }
    end
    u, n = opts.sample
    out << u
    k += n
  end
  out
end

ALPHA = %w[s S ſ ß ẞ t T ﬅ ﬆ f F i I l L ﬁ ﬂ ﬀ ﬃ ﬄ x k K e h a]
PALPHA = %w[s S ß ẞ t T ﬅ ﬆ f F i l ﬁ ﬂ ﬀ ﬃ ﬄ x k e h - 1 ſ K]

def texts_for(string)
  f = string.chars.map { |c| fold(c) }.join
  out = [string, string.upcase, string.downcase]
  8.times do
    pre = (1..rand(0..2)).map { ALPHA.sample }.join
    post = (1..rand(0..2)).map { ALPHA.sample }.join
    out << pre + respell(f) + post
  end
  3.times do
    s = respell(f)
    s = s.sub(/.\z/, '') if s.size > 1
    out << (1..rand(0..1)).map { ALPHA.sample }.join + s
  end
  out.uniq
end
