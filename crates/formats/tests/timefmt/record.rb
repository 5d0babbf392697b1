# Records what Fluentd 1.16's own time classes do with random formats, for timefmt_vs_ruby.rs.
#
#   TZ=America/New_York RUBYLIB=<fluentd's, as bin/fluentd sets it> ruby record.rb
#
# writes strftime.jsonl (Fluent::TimeFormatter: format, zone setting, times, outputs or the
# error) and strptime.jsonl (Fluent::TimeParser: format, zone setting, texts, parsed times or
# the error as 'm', what logferry must give, and as 'o' Fluentd's own result where that differs:
# see `expected`). Inputs come from a seeded generator, so a re-record with the same Ruby and
# Fluentd gives the same files. The local zone must be America/New_York (the test sets it).
require 'json'
require 'fluent/env'
require 'fluent/log'
require 'fluent/time'

abort 'run with TZ=America/New_York' unless ENV['TZ'] == 'America/New_York'
# OUT=dir SEED=n record elsewhere with other draws (TIMEFMT_DIR=dir runs the test on them).
DIR = ENV['OUT'] || File.dirname(__FILE__)
R = Random.new(Integer(ENV['SEED'] || 20261206))

# Zone settings: [localtime, timezone] as TimeFormatter.new/TimeParser.new take them.
ZONES = [[true, nil], [false, nil], [false, '+09:00'], [false, '-03:30'], [false, '+0530'],
         [false, '-02'], [false, 'Asia/Tokyo'], [false, 'America/New_York'],
         [false, 'Europe/London']].freeze

def utc(*a) = Time.utc(*a).to_i

TIMES = [
  0, 1, 59, 60, 3599, 86_399, 86_400, 951_782_400, 946_684_799, 946_684_800,
  2**31 - 1, 2**31, 2**32 - 1, 1_700_000_000,
  utc(2024, 2, 29, 12), utc(2000, 2, 29, 23, 59, 59), utc(2100, 3, 1), utc(1972, 12, 31, 23, 59, 59),
  utc(2020, 12, 31, 23, 59, 59), utc(2021, 1, 3, 12), utc(2021, 1, 4), utc(2026, 12, 28, 1),
  utc(2027, 1, 1, 5), utc(2009, 12, 31, 22), utc(2010, 1, 3, 23), utc(2015, 12, 27),
  utc(2024, 3, 10, 6, 59, 59), utc(2024, 3, 10, 7), utc(2024, 11, 3, 5, 59, 59), utc(2024, 11, 3, 6),
  utc(2024, 3, 31, 0, 59, 59), utc(2024, 3, 31, 1), utc(2024, 10, 27, 0, 59, 59), utc(2024, 10, 27, 1),
  utc(1999, 12, 31, 12), utc(2038, 1, 19, 3, 14, 8), utc(2001, 9, 9, 1, 46, 40)
].freeze
NSECS = [0, 1, 999_999_999, 123_456_789, 500_000_000, 10, 100_000, 999_000_000, 7_000].freeze

def a_time
  sec = R.rand < 0.6 ? TIMES.sample(random: R) : R.rand(2**32)
  [sec, R.rand < 0.7 ? NSECS.sample(random: R) : R.rand(1_000_000_000)]
end

LITERALS = ['-', ':', ' ', 'T', '.', ',', '/', 'x', 'é', '時刻', '  ', '%%', 'Z', '[', ']', '0', '12'].freeze
FLAGS = %w[- _ 0 ^ # :].freeze
LETTERS = (('a'..'z').to_a + ('A'..'Z').to_a + %w[+ %]).freeze
COMMON = %w[Y m d H M S N L z Z b B a A y e j I l k p P s T R F D c x X u w U W V G g C h n t r v Q].freeze

def directive(letters)
  d = +'%'
  if R.rand < 0.5
    R.rand(1..3).times { d << FLAGS.sample(random: R) }
  end
  d << [R.rand(1..12), R.rand(0..3), R.rand(10..30)].sample(random: R).to_s if R.rand < 0.35
  d << %w[E O].sample(random: R) if R.rand < 0.08
  d << letters.sample(random: R)
end

def a_strftime_format
  n = R.rand(1..4)
  f = +''
  n.times do
    f << if R.rand < 0.3 then LITERALS.sample(random: R)
         else directive(R.rand < 0.8 ? COMMON : LETTERS)
         end
  end
  f << '%' if R.rand < 0.03
  f
end

# Fluentd looks a named `timezone` up with the time in the process's local zone, which TZInfo
# reads as UTC: right only when the process runs in UTC (as it usually does, and as the lead's
# differential suite runs it). Times in a `timezone` are recorded so.
def in_zone_of(tz)
  ENV['TZ'] = tz ? 'UTC' : 'America/New_York'
  yield
ensure
  ENV['TZ'] = 'America/New_York'
end

def formatted(fmt, localtime, tz, sec, nsec)
  in_zone_of(tz) do
    # A new formatter for each time: Fluentd caches by second when the format has no %N/%L.
    f = Fluent::TimeFormatter.new(fmt, localtime, tz)
    t = Fluent::EventTime.new(sec, nsec)
    # Fluentd's cache starts at time 0 with no text: it writes nil for epoch second 0 (README,
    # "Differences from Fluentd"). What it meant is recorded.
    f.format(t) || f.format_nocache(t)
  end
rescue StandardError => e
  { 'err' => "#{e.class}: #{e.message}" }
end

File.open(File.join(DIR, 'strftime.jsonl'), 'w') do |out|
  fixed = ['%WT%-0T '] + '%-0T %-0R %9N %-9N %_9N %09N %3N %1N %12N %-N %^a %#a %#A %^B %#p %^p
             %:z %::z %:::z %-z %_z %10z %-10z %_10z %010z %10:z %E %Ey %Oy %EY %Od %Ex %+ %q
             %Q %-s %10s %_10s %v %^v %10v %#Z %^Z %10Z %-e %_m %-H %^c %#c %10h %-k %0e %0k
             %-l %_I %Ej %G-W%V-%u %g %10G %U %W %C %-C %^x %10F %10T %10D %_10F %-10F %%
             %5% %-% %] %é %-é'.split
  formats = fixed.map { |f| [f, nil] } + Array.new(2400) { [a_strftime_format, nil] }
  formats.each_with_index do |(fmt, _), i|
    zone = i < fixed.size ? ZONES[i % ZONES.size] : ZONES.sample(random: R)
    times = Array.new(i < fixed.size ? 12 : 5) { a_time }
    outs = times.map { |s, ns| formatted(fmt, zone[0], zone[1], s, ns) }
    out.puts JSON.generate('f' => fmt, 'l' => zone[0], 'z' => zone[1], 't' => times, 'o' => outs)
  end
end

# --- strptime: formats with a year (so "now" never fills a field), texts written by Ruby.
PARSE_COMMON = %w[Y m d H M S N L z Z b B a A y e j I l k p P T R F D c x X u w C h n t r %].freeze
PARSE_ALL = (('a'..'z').to_a + ('A'..'Z').to_a + %w[+ %]).freeze

def a_strptime_format
  f = +''
  R.rand(2..6).times do
    f << if R.rand < 0.3 then LITERALS.sample(random: R)
         elsif R.rand < 0.85 then "%#{PARSE_COMMON.sample(random: R)}"
         else directive(R.rand < 0.5 ? PARSE_COMMON : PARSE_ALL)
         end
  end
  f = "%Y #{f}" unless f.gsub('%%', '') =~ /%[-_0^#]*\d*(Y|F|s|Q|c|y|D|x)/
  f
end

def mutations(text)
  m = [text]
  m << text[0...-1] if text.size > 1
  m << text[0...(text.size / 2)]
  m << "#{text} extra"
  m << "  #{text}"
  m << text.sub(/\d\d/) { '99' }
  m << text.sub(/\d(?=\D*\z)/) { '9' }
  m << text.tr('0-9', '1-9x')
  m << text.sub(' ', '   ')
  m.uniq
end

def parsed(fmt, localtime, tz, text)
  in_zone_of(tz) { parsed_here(fmt, localtime, tz, text) }
end

# Fluentd's parse in the process's current zone.
def parsed_here(fmt, localtime, tz, text)
  t = Fluent::TimeParser.new(fmt, localtime, tz).parse(text)
  [t.sec, t.nsec]
rescue Fluent::ConfigError => e
  { 'config' => e.message }
rescue StandardError => e
  { 'err' => e.class.to_s.sub('Fluent::TimeParser::', '') }
end

def with_tz(name)
  old = ENV['TZ']
  ENV['TZ'] = name
  yield
ensure
  ENV['TZ'] = old
end

# What logferry does with a text: what Fluentd does, except where Fluentd mishandles it (README,
# "Differences from Fluentd"), where it is what the user meant:
# * flags and widths (`%-d`, `%9N`) are strftime's; Ruby's strptime matches them as text, so
#   Fluentd fails on every record. Meant: the format without them.
# * a zone read by `%:z` or `%+` (Fluentd looks for `%z`/`%Z` in the format) and epoch seconds
#   (`%s`, `%Q`) are moved to the configured `timezone`/`utc` by Fluentd. Meant: the instant read.
# * a wall-clock time in a `timezone` or `utc` is resolved by Fluentd through the process's local
#   zone (TZInfo reads a local time as UTC; a local gap shifts it). Meant: the wall clock in the
#   configured zone.
# * week dates (`%G-W%V-%u`, `%Y %U %w` with no month and day): Fluentd's `Date.strptime(…).to_time`
#   drops the time of day. Meant: the week's date and the time read; mixes Ruby completes from
#   today's date are not compared ('skip').
def stripped(fmt)
  fmt.gsub(/%%|%[-_0^#]*\d*(?=[A-Za-z+])/) { |m| m == '%%' ? m : '%' }
end

NAME = %r{\A[^/]+/[^/]+(/[^/]+)?\z}

def wall_clock(f2, localtime, tz, has_zone, text)
  if has_zone
    with_tz('America/New_York') { parsed_here(f2, true, nil, text) }
  elsif tz && NAME.match?(tz)
    with_tz(tz) { parsed_here(f2, true, nil, text) }
  elsif tz || !localtime
    with_tz('UTC') { parsed_here(f2, localtime, tz, text) }
  else
    with_tz('America/New_York') { parsed_here(f2, true, nil, text) }
  end
end

def week_meant(h, localtime, tz, has_zone)
  date = if h[:cwyear] && h[:cweek]
           wd = h[:cwday] || (h[:wday] && (h[:wday].zero? ? 7 : h[:wday])) || 1
           Date.commercial(h[:cwyear], h[:cweek], wd)
         elsif h[:year] && h[:wnum0]
           Date.strptime("#{h[:year]} #{h[:wnum0]} #{h[:wday] || (h[:cwday] && h[:cwday] % 7) || 0}", '%Y %U %w')
         elsif h[:year] && h[:wnum1]
           Date.strptime("#{h[:year]} #{h[:wnum1]} #{h[:wday] || (h[:cwday] && h[:cwday] % 7) || 1}", '%Y %W %w')
         end
  return 'skip' unless date
  hour = h[:hour] || 0
  return { 'err' => 'ArgumentError' } if hour == 24 && ((h[:min] || 0) != 0 || (h[:sec] || 0) != 0)
  ns = h[:sec_fraction] ? (h[:sec_fraction] * 1_000_000_000).floor : 0
  wall = format('%04d-%02d-%02d %02d:%02d:%02d.%09d', date.year, date.mon, date.mday, hour, h[:min] || 0,
                h[:sec] || 0, ns)
  off = h[:zone] && Time.zone_offset(h[:zone])
  if off
    sign = off.negative? ? '-' : '+'
    return with_tz('UTC') { parsed_here('%Y-%m-%d %H:%M:%S.%N %z', true, nil, "#{wall} #{sign}#{format('%02d%02d', off.abs / 3600, off.abs % 3600 / 60)}") }
  end
  wall_clock('%Y-%m-%d %H:%M:%S.%N', localtime, tz, has_zone, wall)
rescue Date::Error, ArgumentError
  { 'err' => 'ArgumentError' }
end

def expected(fmt, localtime, tz, text)
  f2 = stripped(fmt)
  has_zone = f2.include?('%z') || f2.include?('%Z')
  h = Date._strptime(text, f2)
  return parsed_here(f2, localtime, tz, text) unless h
  civil = h[:mon] && h[:mday]
  if !h[:seconds] && ((h[:cwyear] && !h[:year]) || ((h[:cwday] || h[:cweek]) && !civil) ||
                      ((h[:wnum0] || h[:wnum1]) && !h[:yday] && !civil))
    return week_meant(h, localtime, tz, has_zone)
  end
  if h[:seconds] || (h[:zone] && Time.zone_offset(h[:zone]))
    with_tz('America/New_York') { parsed_here(f2, true, nil, text) }
  else
    wall_clock(f2, localtime, tz, has_zone, text)
  end
end

File.open(File.join(DIR, 'strptime.jsonl'), 'w') do |out|
  fixed = ['%Y-%m-%d %H:%M:%S.%9N', '%Y-%m-%d %H:%M:%S.%6N', '%Y-%m-%d %H:%M:%S.%3N', '%Y%m%d%H%M%S%3N',
           '%Y-%m-%dT%H:%M:%S.%N%z', '%Y-%m-%dT%H:%M:%S.%L%:z', '%d/%b/%Y:%H:%M:%S %z',
           '%Y-%m-%d %-H:%M', '%Y %-d %b', '%Y %_m', '%Y %^b %d', '%Y %10N', '%s.%3N', '%Q',
           '%Y-%m-%d %H:%M:%S %Z', '%Y %j %T', '%G-W%V-%u', '%Y %U %w', '%Y %W %a', '%Y %+',
           '%Y %E', '%Y %Ey', '%Y %Od %H', '%Y %v', '%Y %%%H', '%Y %H %', '%Y %-%', '%c', '%x %X',
           '%D %r', '%F %R %p', '%Y %3m %2d']
  formats = fixed + Array.new(1500) { a_strptime_format }
  formats.each_with_index do |fmt, i|
    zone = i < fixed.size ? ZONES[i % ZONES.size] : ZONES.sample(random: R)
    texts = []
    3.times do
      s, ns = a_time
      tm = Time.at(s, ns, :nanosecond).localtime(zone[1] ? '+09:00' : nil)
      tm = tm.utc unless zone[0] || zone[1]
      begin
        texts.concat(mutations(tm.strftime(fmt)))
      rescue StandardError
        texts << '2024-01-02 03:04:05'
      end
    end
    texts = texts.uniq.first(14)
    outs = texts.map { |t| parsed(fmt, zone[0], zone[1], t) }
    m = texts.map { |t| expected(fmt, zone[0], zone[1], t) }
    line = { 'f' => fmt, 'l' => zone[0], 'z' => zone[1], 'x' => texts, 'm' => m }
    # Fluentd's own result where it is not what logferry must give, by the text's index.
    o = outs.each_with_index.reject { |r, k| r == m[k] }.to_h { |r, k| [k.to_s, r] }
    line['o'] = o unless o.empty?
    out.puts JSON.generate(line)
  end
end

# --- time_type unixtime / float / mixed, %iso8601 and no time_format (Ruby's Time.parse): texts
# that name a whole date and time (Time.parse fills missing fields from today).
NUMS = ['1700000000', '1700000000.5', '1700000000.123456789123', '1700000000.1234567891', '  17', '17abc',
        '-5', '1e9', '0x10', '', '1.2.3', '+12', '1_000', '12.', '.5', '1700000000.', '4294967295', '4294967296',
        '99999999999999999999', ' 1700000000 ', '1700000000.000000001', '1700000000.-5', '0017', '１２'].freeze
ISOS = ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05.123+09:00', '2024-01-02', '2024-01-02T03:04:05',
        '20240102T030405Z', '2024-01-02T03:04Z', ' 2024-01-02T03:04:05Z', '2024-01-02T03:04:05,5Z',
        '2024-01-02T24:00:00Z', '2024-13-02T03:04:05Z', '2024-01-02T03:04:05+0900', '2024-01-02t03:04:05z',
        '2024-01-02T03:04:05.1234567891Z', '2024-01-02T03:04:60Z', '2024-01-02 03:04:05Z'].freeze
PARSES = ['2024-01-02 03:04:05', '2024-01-02 03:04:05 +0900', 'Tue, 02 Jan 2024 03:04:05 GMT',
          '2024/01/02 03:04:05.5', 'Jan 2 2024 03:04:05 PM', '02 Jan 2024 03:04:05 -0330',
          '2024-01-02T03:04:05.123456Z', '20240102 030405', 'Tue Jan  2 03:04:05 UTC 2024',
          '2024-01-02 03:04:05 EST', '2024-01-02 03:04:05 JST', '2 January 2024 3:04:05 am'].freeze
TYPED = [['unixtime', nil, []], ['float', nil, []], ['string', '%iso8601', []], ['string', nil, []],
         ['mixed', '%iso8601', ['unixtime']], ['mixed', '%Y-%m-%d %H:%M:%S', ['float', '%iso8601']],
         ['mixed', nil, ['%iso8601', 'unixtime']], ['mixed', '%s', ['%Y-%m-%d']]].freeze

def typed(type, fmt, fallbacks, text)
  t = in_zone_of(nil) do
    case type
    when 'unixtime', 'float' then Fluent::NumericTimeParser.new(type.to_sym)
    when 'mixed' then Fluent::MixedTimeParser.new(:mixed, fmt, true, nil, false, false, fallbacks.dup)
    else Fluent::TimeParser.new(fmt, true, nil)
    end.parse(text)
  end
  [t.sec, t.nsec]
rescue StandardError => e
  { 'err' => e.class.to_s }
end

# Whole dates as logs write them, for Time.parse (no time_format).
LAYOUTS = ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S%z', '%Y-%m-%dT%H:%M:%S.%L%:z', '%Y-%m-%dT%H:%M:%SZ',
           '%a, %d %b %Y %H:%M:%S %z', '%a %b %e %H:%M:%S %Z %Y', '%d/%b/%Y:%H:%M:%S %z', '%Y/%m/%d %H:%M:%S',
           '%b %e %Y %H:%M:%S', '%d %B %Y %I:%M:%S %p', '%Y%m%dT%H%M%S', '%Y-%m-%d %H:%M:%S.%N %Z',
           '%A, %B %d, %Y %l:%M %P', '%Y-%m-%d %H:%M', '%d.%m.%Y %H:%M:%S', '%m/%d/%Y %H:%M:%S',
           '%Y-%j %H:%M:%S', '%c', '%x %X', '%Y-%m-%dT%H:%M:%S,%3N%z', '%e %b %Y %T GMT', '%s'].freeze

def lenient_texts
  Array.new(400) do
    s, ns = a_time
    tz = ['+09:00', '-03:30', '+00:00', nil].sample(random: R)
    t = Time.at(s, ns, :nanosecond)
    t = tz ? t.localtime(tz) : t.utc
    t.strftime(LAYOUTS.sample(random: R))
  end
end

File.open(File.join(DIR, 'typed.jsonl'), 'w') do |out|
  texts = lenient_texts
  out.puts JSON.generate('type' => 'string', 'f' => nil, 'fb' => [], 'x' => texts,
                         'o' => texts.map { |t| typed('string', nil, [], t) })
  TYPED.each do |type, fmt, fallbacks|
    # Time.parse fills what a text lacks from today: only whole dates for it.
    texts = type == 'string' && !fmt ? ISOS + PARSES : NUMS + ISOS + PARSES
    out.puts JSON.generate('type' => type, 'f' => fmt, 'fb' => fallbacks, 'x' => texts,
                           'o' => texts.map { |t| typed(type, fmt, fallbacks, t) })
  end
end
