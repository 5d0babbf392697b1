# Evaluate each expression (one a line of ARGV[0]) as Fluentd 1.16's record_transformer does with
# enable_ruby: instance_eval in a clean room with Object's methods undefined, the record ARGV[1]
# (JSON), tag app.web.x, time 1700000000, hostname "h". Prints Ruby's inspect of each result, ERR
# for an exception, OBJ for a Time/MatchData/Regexp, SYNTAX for a syntax error.
require 'json'
require 'time' # Fluentd loads it: Time#iso8601, #xmlschema
class Clean
  def expand(__str_to_eval__, tag, time, record, tag_parts, tag_prefix, tag_suffix, hostname)
    instance_eval(__str_to_eval__)
  end
  (Object.instance_methods).each do |m|
    undef_method m unless /^__|respond_to_missing\?|object_id|public_methods|instance_eval|method_missing|define_singleton_method|respond_to\?|new_ostruct_member|^class$/.match?(m.to_s)
  end
end
# A US-ASCII string (Time#to_s, and what `+` keeps of it) inspects control characters as \x00;
# it is the same bytes as the UTF-8 string logferry makes (msgpack writes both as str).
def norm(v)
  case v
  when String then v.encoding == Encoding::US_ASCII ? v.dup.force_encoding(Encoding::UTF_8) : v
  when Array then v.map { |x| norm(x) }
  when Hash then v.to_h { |k, x| [norm(k), norm(x)] }
  else v
  end
end
rec = JSON.parse(File.binread(ARGV[1]).force_encoding("UTF-8"))
c = Clean.new
tag = "app.web.x"; parts = tag.split('.')
pre = ["app", "app.web", "app.web.x"]; suf = ["app.web.x", "web.x", "x"]
File.binread(ARGV[0]).force_encoding("UTF-8").split("\n").each do |e|
  r = begin
    v = c.expand(e, tag, Time.at(1700000000), Marshal.load(Marshal.dump(rec)), parts.dup, pre.dup, suf.dup, "h")
    if v.is_a?(Time) || v.is_a?(MatchData) || v.is_a?(Regexp) || v.is_a?(Module) then "OBJ"
    elsif v.is_a?(Symbol) && v.inspect.start_with?(':"') then "SYM" # quoted: a record value is its name
    else norm(v).inspect end
  rescue StandardError => ex
    "ERR"
  rescue SyntaxError, ScriptError
    "SYNTAX"
  rescue NoMemoryError
    "SKIP"
  end
  puts r
end
