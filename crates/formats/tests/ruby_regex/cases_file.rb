# Shared by the case generators (fold_cases.rb, block_cases.rb, class_cases.rb, the loop ones):
# cases.json holds one case a line; a generator replaces the lines of its own groups.
require 'json'

CASES_PATH = File.join(File.dirname(File.expand_path(__FILE__)), 'cases.json')

# One case as a line of cases.json (its spacing); `meant`, when given, is the pattern whose
# matches in Ruby are the goldens (see behind_cases.rb); `binary`: the haystacks are matched as
# binary strings (their bytes, see record.rb); `starts`: matches from every later start position in
# the haystacks are compared too.
def case_line(group, src, flags, engine, hays, meant = nil, binary: false, starts: false)
  c = { 'group' => group, 'src' => src, 'flags' => flags, 'engine' => engine, 'hays' => hays }
  c['meant'] = meant if meant
  c['binary'] = true if binary
  c['starts'] = true if starts
  JSON.generate(c, { ascii_only: false })
      .gsub('","', '", "').gsub('":', '": ').gsub(',"', ', "')
end

# The common haystacks every case is also tried against.
def common_haystacks = JSON.parse(File.read(CASES_PATH, encoding: 'UTF-8'))['common_haystacks']

# Replace the cases of `groups` in cases.json with `cases` (lines from case_line), at the end.
def replace_groups(groups, cases)
  lines = File.read(CASES_PATH, encoding: 'UTF-8').split("\n")
  head = lines.take_while { |l| !l.start_with?('{"group"') }
  body = lines.select { |l| l.start_with?('{"group"') }
              .reject { |l| groups.any? { |g| l.include?(JSON.generate(g)) } }
  body = body.map { |l| l.chomp(',') } + cases
  File.write(CASES_PATH, (head + [body.join(",\n")] + [']}']).join("\n") + "\n")
end

def compiles?(src, flags)
  Regexp.new(src, flags.include?('i') ? Regexp::IGNORECASE : 0)
  true
rescue RegexpError
  false
end

# Does Ruby match `src` on every text within 10 ms (with `starts`, from every position, timed
# in the child too)? (Nested repetitions before a failing end can take Onigmo exponential time,
# past logferry's retry budget of 10 million backtracks.)
def quick?(src, flags, texts, starts: false)
  re = Regexp.new(src, flags.include?('i') ? Regexp::IGNORECASE : 0)
  pid = fork do
    t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    texts.each { |t| (starts ? (0..t.size) : [0]).each { |p| re.match(t, p) } }
    exit!(starts && Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0 >= 0.01 ? 1 : 0)
  end
  20.times do
    return $?.success? if Process.waitpid(pid, Process::WNOHANG)

    sleep 0.0005
  end
  Process.kill(9, pid)
  Process.wait(pid)
  false
end
