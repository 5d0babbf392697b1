# Re-record goldens.json from cases.json with the local Ruby (Debian's ruby 3.1 in the reference
# setup): `ruby crates/formats/tests/ruby_regex/record.rb`. For every case: Ruby's compile error,
# or for each haystack (the case's own, then the common ones) the first match as byte offsets
# (of the case's `meant` pattern when it has one; of each haystack's bytes as a binary string
# when the case is `binary`, `incompatible` where Ruby raises Encoding::CompatibilityError):
# the whole match, each numbered group, each named group; for a `starts` case also the first match
# from each later character of each haystack. The test
# (crates/formats/tests/ruby_regex_vs_ruby.rs) compares logferry's RubyRegex with these; it needs
# no Ruby.
require 'json'

$VERBOSE = nil
dir = File.dirname(File.expand_path(__FILE__))
data = JSON.parse(File.read(File.join(dir, 'cases.json'), encoding: 'UTF-8'))
common = data['common_haystacks']

lines = data['cases'].map do |c|
  opts = 0
  opts |= Regexp::IGNORECASE if c['flags'].include?('i')
  opts |= Regexp::MULTILINE if c['flags'].include?('m')
  opts |= Regexp::EXTENDED if c['flags'].include?('x')
  head = { 'src' => c['src'], 'flags' => c['flags'] }
  begin
    # A case with `meant` (behind_cases.rb): Ruby's matches of what the pattern means.
    re = Regexp.new((c['meant'] || c['src']).dup.force_encoding(Encoding::UTF_8), opts)
  rescue RegexpError, SyntaxError => e
    next JSON.generate(head.merge('error' => e.message))
  end
  # A pattern Ruby compiles but raises on matching with (`/(?<=a[[:alpha:]])x/i` on any text that
  # is not ASCII) is recorded as Ruby's error.
  # A match as byte offsets (Ruby 3.1 has no byteoffset: the byte size of the text before each
  # character offset).
  shape = lambda do |m, s|
    span = lambda do |g|
      b = m.begin(g)
      b && [s[0, b].bytesize, s[0, m.end(g)].bytesize]
    end
    {
      'span' => span.call(0),
      'groups' => (1...m.size).map { |i| span.call(i) },
      'names' => m.names.map { |n| [n, span.call(n)] },
    }
  end
  results = begin
    (c['hays'] + common).map do |h|
    # A `binary` case: each haystack's bytes as a binary (ASCII-8BIT) string, as in_tail, tcp,
    # udp and syslog give Fluentd's parsers; a pattern fixed to UTF-8 raises on one past ASCII.
    s = c['binary'] ? h.b : h.dup.force_encoding(Encoding::UTF_8)
    m = begin
      re.match(s)
    rescue Encoding::CompatibilityError
      raise unless c['binary']
      next 'incompatible'
    end
    m && shape.call(m, s)
    end
  rescue RegexpError => e
    next JSON.generate(head.merge('error' => "raises on matching: #{e.message}"))
  end
  # A `starts` case: also the first match from each later character of each haystack
  # (`match(text, pos)`, as a parser scanning a text searches again after a match).
  if c['starts']
    starts = (c['hays'] + common).map do |h|
      s = h.dup.force_encoding(Encoding::UTF_8)
      (1..s.length).map { |pos| (m = re.match(s, pos)) && shape.call(m, s) }
    end
    next JSON.generate(head.merge('results' => results, 'starts' => starts))
  end
  JSON.generate(head.merge('results' => results))
end

File.write(File.join(dir, 'goldens.json'),
           "{\"ruby\": #{JSON.generate(RUBY_DESCRIPTION)},\n\"cases\": [\n#{lines.join(",\n")}\n]}\n")
puts "#{lines.size} cases recorded with #{RUBY_DESCRIPTION}"
