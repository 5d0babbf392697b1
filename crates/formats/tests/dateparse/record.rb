# Records what Ruby's Date._parse and Time.parse do with random date/time texts, for
# dateparse_vs_ruby.rs (logferry's port of date_parse.c and Time.make_time, the time parsing
# Fluentd does when a parser has no time_format).
#
#   TZ=America/New_York RUBYLIB=<fluentd's, as bin/fluentd sets it> ruby record.rb
#
# writes parse.jsonl: one line per text, {"t": text, "h": Date._parse(text) with every value as
# a string (sec_fraction and offset as Ruby writes the Rational or Integer), or {"err": message},
# "w" / "s": Time.parse(text, now) as [to_i, nsec] or {"err": message} for a winter and a summer
# `now` (NOW_W, NOW_S below)}. Date._parse depends on the text only; Time.parse on the text, `now`
# and the local zone (America/New_York, which the test sets). Inputs come from a seeded
# generator: a re-record with the same Ruby gives the same file.
require 'json'
require 'date'
require 'time'

# DATEPARSE_TZ=zone (with OUT=dir) records in another local zone (the test takes it too).
ZONE = ENV['DATEPARSE_TZ'] || 'America/New_York'
abort "run with TZ=#{ZONE}" unless ENV['TZ'] == ZONE
DIR = ENV['OUT'] || File.dirname(__FILE__)
R = Random.new(Integer(ENV['SEED'] || 20261206))
COUNT = Integer(ENV['COUNT'] || 7500)

# 2025-12-06T05:46:40.123456789Z and 2025-07-08T18:40:00.987654321Z.
NOW_W = Time.at(1_765_000_000, 123_456_789, :nsec)
NOW_S = Time.at(1_752_000_000, 987_654_321, :nsec)

def pick(a) = a.sample(random: R)

MONTHS = %w[January February March April May June July August September October November December].freeze
DAYS = %w[Sunday Monday Tuesday Wednesday Thursday Friday Saturday].freeze
ZONES = ['Z', 'z', 'UTC', 'GMT', 'UT', 'EST', 'EDT', 'PST', 'pdt', 'JST', 'CET', 'CEST', 'BST',
         'IST', 'A', 'M', 'N', 'Y', 'J', '+09:00', '-0500', '+9', '-3', '+0530', '+05:30:15',
         'GMT+9', 'UTC-3:30', 'utc+5.5', '+9,5', 'Eastern Standard Time', 'Pacific Daylight Time',
         'CET dst', 'EST DST', '[+9]', '[-5:EST]', '[9]', '[+05:30]', 'foo', 'XYZ', 'Europe/Paris',
         'AKST', 'NZDT', 'MSK', 'w', '+12345', '-1234567', '+1:2:3'].freeze
SEPS = ['-', '/', '.', ':', ' ', ',', 'T', 't', "'", '+', '  ', ', ', '. ', ' - ', '--', '@',
        '_', "\t", 'W', 'w', '-W', '-w-'].freeze
JUNK = ['x', 'é', '時刻', 'foo', 'h', 'm', 's', 'at', 'of', 'the', '!', '?', '#', '(', ')', '[',
        ']', '"', '*', 'é1', 'AM', 'PM', 'a.m.', 'p.m.', 'am', 'pm', 'st', 'nd', 'rd', 'th',
        'BC', 'AD', 'bce', 'ce', 'B.C.', 'a.d.', 'c.e.', 'b.c.e.', 'H', 'M', 'S', 'R', 'sept',
        'Tues', 'thur', 'h', "\u00a0", "\u3000", 'Ⅻ', '٣', '३'].freeze

def digits(n) = Array.new(n) { R.rand(10).to_s }.join

def a_number
  n = case R.rand
      when 0...0.35 then R.rand(1..2)
      when 0.35...0.6 then R.rand(3..4)
      when 0.6...0.85 then pick([5, 6, 7, 8, 10, 12, 14])
      else R.rand(1..16)
      end
  digits(n)
end

def a_month
  m = pick(MONTHS)
  m = case R.rand(4)
      when 0 then m
      when 1 then m[0, 3]
      when 2 then m[0, 3] + '.'
      else m[0, R.rand(3..m.size)]
      end
  case R.rand(4)
  when 0 then m.upcase
  when 1 then m.downcase
  else m
  end
end

def a_day
  d = pick(DAYS)
  d = R.rand < 0.5 ? d : d[0, 3]
  R.rand < 0.2 ? d.upcase : d
end

def a_piece
  case R.rand
  when 0...0.38 then a_number
  when 0.38...0.62 then pick(SEPS)
  when 0.62...0.7 then a_month
  when 0.7...0.74 then a_day
  when 0.74...0.8 then pick(ZONES)
  when 0.8...0.85 then "#{a_number}#{pick(%w[st nd rd th ST Th])}"
  when 0.85...0.88 then ".#{digits(R.rand(1..12))}"
  when 0.88...0.9 then "'#{digits(R.rand(1..4))}"
  else pick(JUNK)
  end
end

def d2(n) = format('%02d', n)

# Texts as logs write them, to mutate.
def a_real
  y = R.rand(1900..2100)
  mo = R.rand(1..12)
  d = R.rand(1..31)
  h = R.rand(0..24)
  mi = R.rand(0..60)
  s = R.rand(0..61)
  f = ".#{digits(R.rand(1..9))}"
  z = pick(ZONES)
  mon = MONTHS[mo - 1]
  case R.rand(16)
  when 0 then "#{y}-#{d2(mo)}-#{d2(d)}T#{d2(h)}:#{d2(mi)}:#{d2(s)}#{f}#{z}"
  when 1 then "#{y}-#{d2(mo)}-#{d2(d)} #{d2(h)}:#{d2(mi)}:#{d2(s)} #{z}"
  when 2 then "#{a_day}, #{d2(d)} #{mon[0, 3]} #{y} #{d2(h)}:#{d2(mi)}:#{d2(s)} #{z}"
  when 3 then "#{a_day} #{mon[0, 3]} #{d.to_s.rjust(2)} #{d2(h)}:#{d2(mi)}:#{d2(s)} #{y}"
  when 4 then "#{d2(d)}/#{mon[0, 3]}/#{y}:#{d2(h)}:#{d2(mi)}:#{d2(s)} #{z}"
  when 5 then "#{mon[0, 3]} #{d.to_s.rjust(2)} #{d2(h)}:#{d2(mi)}:#{d2(s)}"
  when 6 then "#{y}/#{d2(mo)}/#{d2(d)} #{d2(h)}:#{d2(mi)}:#{d2(s)}"
  when 7 then "#{d2(mo)}/#{d2(d)}/#{y % 100} #{R.rand(1..12)}:#{d2(mi)} #{pick(%w[AM PM am pm a.m. p.m.])}"
  when 8 then "#{y}#{d2(mo)}#{d2(d)}T#{d2(h)}#{d2(mi)}#{d2(s)}#{pick(['Z', '', '+0900', f])}"
  when 9 then "#{d2(d)}.#{d2(mo)}.#{y} #{d2(h)}:#{d2(mi)}"
  when 10 then "#{y}-W#{d2(R.rand(1..53))}-#{R.rand(1..7)}"
  when 11 then "#{y}-#{R.rand(1..366).to_s.rjust(3, '0')}"
  when 12 then "#{pick(%w[H R S T M h])}#{R.rand(1..40)}.#{d2(mo)}.#{d2(d)}"
  when 13 then "#{d} #{mon} #{pick(['', "'", '-'])}#{y % 100} #{pick(['BC', 'AD', 'B.C.', ''])}"
  when 14 then "#{d2(h)}h#{d2(mi)}m#{d2(s)}s"
  else "#{mon} #{d}#{pick(%w[st nd rd th])}, #{y} #{h}:#{d2(mi)}#{pick(['', ' pm', ' am'])}"
  end
end

def mutate(t)
  case R.rand(8)
  when 0 then t[0, R.rand(0..t.size)]
  when 1 then t[R.rand(0..t.size)..] || ''
  when 2 then t.sub(/\d+/) { a_number }
  when 3 then t + a_piece
  when 4 then a_piece + t
  when 5 then t.sub(/[^\d]/) { pick(SEPS) }
  when 6 then t.tr('0-9', pick(['1-9x', '9876543210', '0']))
  else t
  end
end

# The shapes logferry reads without Date._parse's regular expressions (ISO 8601, RFC 2822,
# syslog), with values in and out of range.
def a_fast
  dd = -> { format('%02d', R.rand(0..39)) }
  hms = -> { [R.rand(0..29), R.rand(0..69), R.rand(0..69)].map { |v| format('%02d', v) }.join(':') }
  year = -> { pick([digits(4), '1969', '2000', '0000', '0099', '2024', '9999']) }
  cased = ->(w) { pick([w, w.upcase, w.downcase]) }
  case R.rand(3)
  when 0
    t = +"#{year.call}-#{format('%02d', R.rand(0..19))}-#{dd.call}"
    if R.rand < 0.8
      time = hms.call
      time = time[0, 5] if R.rand < 0.2
      t << pick(['T', 't', ' ']) << time
      t << pick(['.', ',']) << digits(R.rand(1..12)) if R.rand < 0.4 && time.size == 8
      t << pick(['', ' ']) << pick(['Z', 'z', '+09:00', '-0500', '+2400', '-23:59', '+0000', '-00:00',
                                     '+99:99', '+1:00', '+0930', 'EST', 'am']) if R.rand < 0.6
    end
    t
  when 1
    t = +"#{cased.call(pick(DAYS)[0, 3])}, #{dd.call} #{cased.call(pick(MONTHS)[0, 3])} #{year.call} #{hms.call}"
    t << ' ' << pick(['+0000', '-0500', '+2400', '-9959', 'GMT', 'UT', 'EST', 'am', 'PM', 'A', 'Z', 'XYZAB',
                      'pst', 'M', 'edt', 'J', 'abcdef', '+05:30']) if R.rand < 0.8
    t
  else
    d = R.rand(0..39)
    "#{cased.call(pick(MONTHS)[0, 3])} #{pick([" #{d % 10}", (d % 10).to_s, format('%02d', d)])} #{hms.call}"
  end
end

def a_text
  return a_fast if R.rand < 0.2

  case R.rand
  when 0...0.45
    Array.new(R.rand(1..8)) { a_piece }.join
  when 0.45...0.55
    a_number
  when 0.55...0.6
    pick(SEPS) + a_number + (R.rand < 0.5 ? pick(SEPS) : '')
  when 0.6...0.99
    t = a_real
    R.rand(0..2).times { t = mutate(t) }
    t
  else
    'x' * R.rand(120..140) + a_real
  end
end

def value(v)
  v.to_s
end

def hash_of(text)
  Date._parse(text).to_h { |k, v| [k.to_s, value(v)] }
rescue StandardError => e
  { 'err' => "#{e.class}: #{e.message}" }
end

def time_of(text, now)
  t = Time.parse(text, now)
  [t.to_i.to_s, t.nsec]
rescue StandardError => e
  { 'err' => "#{e.class}: #{e.message}" }
end

FIXED = ['012', '12', '123', '12345', '231114', '1130', 'T12', '12.5', '1234', '', ' ', 'x',
         '2024-01-02T03:04:05Z', 'Sat Aug 28 02:55:50 +09:00 1999', 'H11.05.21', '2024-W05-3',
         '--12-25', '---25', '-w-3', '2024-070', '24-070', '-070', 'Feb 29 2023', 'Feb 31',
         '12:00 pm EST', '24:00', '23:59:60', '12 Jan 0099 BC', "Jan 5 '99", '5th', 'the 3rd',
         '20241231T235960Z', '20241231235960', '2024123123', '+20240102', '-240102',
         '10:20:30.123456789123', '10h', '10 pm', '3 a.m. tomorrow', 'noon', '1/2', '1/2/3',
         '1.2.3', '1999.12.31', '2024/366', '2023-366', 'Dec 2024', 'Tue', 'Tuesday 10:00',
         '2024-13-01', '2024-12-32', '25:00', '12:60', '12:30:61', '12:30 [+9]', '1234[-5:EST]',
         '12:00 Eastern Daylight Time', '12:00 gmt+9.5', '12:00 +9:30:15', 'W12', '2024W121',
         '2024-w12-1', '366', '367', '000', '0', '00', '1 2', 'T1230', 'T123045.5Z', '1230.5'].freeze

# Fluentd reads these times with Fluent::TimeParser.new(nil, true, nil).parse (EventTime.parse,
# Time.parse with the current time as `now`). Where the text has a whole date (the result does
# not depend on `now`), check that Fluentd's own parser gives what is recorded (RUBYLIB as
# bin/fluentd sets it; skipped when Fluentd is not on the load path).
FLUENT = begin
  require 'fluent/env'
  require 'fluent/log'
  require 'fluent/time'
  true
rescue LoadError
  warn 'record.rb: fluent/time not on RUBYLIB, Fluentd not compared'
  false
end
$fluent_checked = 0

def check_fluent(text, hash, recorded)
  return unless FLUENT && !hash.key?('err') && hash['year'] && (hash['yday'] || (hash['mon'] && hash['mday']))

  got = begin
    t = Fluent::TimeParser.new(nil, true, nil).parse(text)
    [(t.sec % 2**32).to_s, t.nsec] # msgpack packs the low 32 bits
  rescue Fluent::TimeParser::TimeParseError
    :err
  end
  want = recorded.is_a?(Hash) ? :err : [(recorded[0].to_i % 2**32).to_s, recorded[1]]
  abort "Fluentd differs from Time.parse for #{text.inspect}: #{got.inspect} #{want.inspect}" unless got == want
  $fluent_checked += 1
end

File.open(File.join(DIR, 'parse.jsonl'), 'w') do |out|
  seen = {}
  texts = FIXED + Array.new(COUNT) { a_text }
  texts.each do |t|
    next if seen[t]

    seen[t] = true
    h = hash_of(t)
    w = time_of(t, NOW_W)
    check_fluent(t, h, w)
    out.puts JSON.generate('t' => t, 'h' => h, 'w' => w, 's' => time_of(t, NOW_S))
  end
end
warn "record.rb: #{$fluent_checked} whole dates checked against Fluent::TimeParser" if FLUENT
