#!/usr/bin/env python3
"""Draw random expressions of logferry's Ruby subset (and around it), one a line: gen.py SEED COUNT."""
import random, sys
random.seed(int(sys.argv[1]))
N=int(sys.argv[2])
strs=['"1_2.5e3x"','" -0d1_2x"','"-9223372036854775808"','" -.5"','"7e"','"3.e2"','"1__2"','"+-1"','"12_"','"4.5E+1_0"','"0.1e-400"','"tab\\tx\\s"',"'it\\'s \\\\n'",'time.strftime(\'%Y-%j %s %N %z\')','time.to_s','Time.now.to_i.to_s','record["m"]','record["sp"]','record["u"]','record["e"]','record["w"]','"a-b_c"',"'x y'",'tag','hostname.to_s.length.to_s',
      'record["x"]','record["c"]','"\u00e9x".b','("\u00e9".b[0] + "x").force_encoding("UTF-8")','("\u00e9".b[0, 1] + "").force_encoding("UTF-8")','("a" + "\u00e9".b[1]).force_encoding("utf-8")','"Stra\u00dfe \u00e9t\u00e9"','"\u00c9COLE"','"line\\r\\n"','"a\\n\\n"','"hello world"','time.iso8601','time.utc.to_s','Time.at(time).xmlschema(3)']
nums=['time.to_i','time.to_f','-7','1_000','record["neg"]','record["f"]','record["z"]','-3','7','2.5','0','record["i"]','1e15','-0.5','2.5e-3','9007199254740993','time.year','time.usec']
arrs=['record["a"]','tag_parts','tag_prefix','record["s"].split("-")','[1, "x", nil]','record["s"].scan(/[a-z]/)','record["h"].keys','record["h"].values','[3, 1, 2]','["b", "a", "c"]','[1.5, 2, -3]','[[1, 2], [3, [4]]]','[nil, 1, nil]']
others=['record["n"]','record["h"]','record["b"]','nil','true','record','time','Time.at(time)','Time.at(1700000000.5)','ENV["LOGFERRY_NOPE"]']
classes=['String','Integer','Float','Numeric','Array','Hash','NilClass','Symbol','Comparable','Object','Time']
res=['/A/i','/^b/m','/ a # c\n/x'.replace('\n',''),'/\\d+/','/(?<y>l)+/','/\\//','/(\\w)(\\d)?/','/x*/','/^/','/(?<p>[aeiou])/','/\\s+/','/./','/$/','/b|$/','/-/']
reps=['"<\\\\0>"','"\\\\1"','"[\\\\k<p>]"','""','"\\\\\\\\"',"'$'",'"\\\\`"',"\"\\\\'\""]
sets=['"a-z"','"^a-z"','"lo"','"a-ce-g"','"a-cb"','"hel"','"^l"','"a\\\\-z"','"^"','"-"','""','"e-a"','"\\\\^x"']
def s(d=0):
    if d>2: return random.choice(strs)
    r=random.random()
    if r<0.3: return random.choice(strs)
    b=any_(d+1)
    m=random.choice(['gsub','sub','scan','match','strip','upcase','downcase','split','length','to_s','to_i','[]','range','join','to_f','to_f','first','last','size','nil?','empty?','start_with?','include?','+','*','idx2',
                     'capitalize','swapcase','chomp','chop','reverse','index','to_sym','just','bytesize','chars','ord','tr','setm','slice','to_json','iso','tpart','utc','keys','fetch','haskey','arr','num','matchq','class','tparse','enc'])
    if m in('gsub','sub'): return '%s.%s(%s, %s)'%(b,m,random.choice(res+['"-"','"a"']),random.choice(reps))
    if m=='scan': return '%s.scan(%s)'%(b,random.choice(res+['"a"']))
    if m=='match': return '%s.match(%s)%s'%(b,random.choice(res),random.choice(['[0]','[1]','.to_s','[:p]','["p"]','[-1]']))
    if m=='split': return '%s.split(%s)'%(b,random.choice(['','","','" "','"-"','"-", 2','"-", -1','/-/','//'.replace('//','/[ab]/'),'""']))
    if m=='[]': return '%s[%s]'%(b,random.choice(['0','-1','1, 2','-2, 5','5','"a"','"h"','"x"']))
    if m=='range': return '%s[%s]'%(b,random.choice(['0..1','1...3','-3..-1','2..0','9..10','1..-1','0...-1']))
    if m in('join',): return '%s.join(%s)'%(b,random.choice(['','"-"','", "']))
    if m in('first','last'): return '%s.%s%s'%(b,m,random.choice(['','(2)','(0)']))
    if m in ('start_with?','include?'): return '%s.%s(%s)'%(b,m,random.choice(['"a"','"x"','1']))
    if m=='+': return '(%s + %s)'%(b,any_(d+1))
    if m=='*': return '(%s * %s)'%(b,random.choice(['2','0','","','1.5']))
    if m=='idx2': return '%s[%s]'%(b, random.choice(['"s"','0','"k"']))
    if m=='chomp': return '%s.chomp%s'%(b, random.choice(['','("")','("\\n")','("d")','(nil)','(1)']))
    if m=='index': return '%s.%s(%s)'%(b, random.choice(['index','rindex']), random.choice(['"l"','"o"','""','"\u00e9"','1']))
    if m=='just': return '%s.%s(%s)'%(b, random.choice(['ljust','rjust','center']), random.choice(['13','0','-1','15, "*"','9, "ab"','5, ""','7, 1']))
    if m=='tr': return '%s.tr(%s, %s)'%(b, random.choice(sets), random.choice(['"x"','""','"A-Z"','"*"','"b-z"']))
    if m=='setm': return '%s.%s(%s)'%(b, random.choice(['delete','count','squeeze']), random.choice(sets))
    if m=='slice': return '%s.slice(%s)'%(b, random.choice(['0','-1','1, 2','"a"','9']))
    if m=='iso': return '%s.%s(%s)'%(random.choice(['time','Time.at(time)','time.utc','time.getutc','Time.at(1700000000.25)','Time.at(record["i"])','Time.at(record["f"])']), random.choice(['iso8601','xmlschema']), random.choice(['','3','0','9','-1','12']))
    if m=='tpart': return '%s.%s'%(random.choice(['time','time.getutc','Time.at(1700000000.999999)','Time.at(0)','Time.at(4102444800)']), random.choice(['year','month','day','hour','min','sec','usec','nsec','wday','yday','zone','utc?','to_i','to_f','round.to_i','to_s']))
    if m=='tparse': return 'Time.parse(%s)%s'%(random.choice(['"2023-11-14T22:13:20Z"','"2023-11-14T22:13:20.123456+09:00"','"2023-11-14 22:13:20"','"Nov 14 2023 10:00 PM EST"','"14/Nov/2023:22:13:20 +0000"','"2023-11-14T22:13:20 GMT"','"22:13"','"x"','""','record["s"]','record["n"]','record["i"]','time.to_s','"2023-11-14T22:13:20-00:00"','"Tue, 14 Nov 2023 22:13:20 +0530"']), random.choice(['.to_i','.to_f','.to_s','.iso8601(3)','.utc.to_s','.zone','.utc?','.hour','.strftime("%Y-%m-%d %H:%M:%S %z %Z")','.getutc.strftime("%FT%T")','.localtime.to_s','.getlocal.zone','.nsec','',' - time',' + 60',' - 60',' <=> time','.xmlschema']))
    if m=='enc': return '%s.%s'%(b, random.choice(['scrub','scrub("?")','scrub("")','valid_encoding?','b','dup.force_encoding("UTF-8")','b.force_encoding("BINARY")','dup.force_encoding("ascii-8bit").length','b.force_encoding("UTF-8").scrub','force_encoding("UTF-8")','dup','clone.length']))
    if m=='utc': return random.choice(['[time.utc?, time.utc.utc?, time.utc?]','[time.getutc.to_s, time.to_s]','[time.gmtime.iso8601, time.localtime.iso8601, time.iso8601]','time.getlocal.utc?','Time.at(time.utc).utc?'])
    if m=='keys': return '%s.%s'%(b, random.choice(['keys','values']))
    if m=='fetch': return '%s.fetch(%s)'%(b, random.choice(['"s"','"zz"','"zz", "d"','0','-1, 9','5','"h", nil']))
    if m=='haskey': return '%s.%s(%s)'%(b, random.choice(['has_key?','key?','member?']), random.choice(['"s"','"zz"','1']))
    if m=='arr': return '%s.%s'%(random.choice(arrs+[b]), random.choice(['uniq','compact','flatten','reverse','take(2)','drop(1)','take(-1)','max','min','sort','sum','count','count(1)','index(1)','index("x")','fetch(1)','fetch(9, 0)']))
    if m=='num': return '%s.%s'%(random.choice(nums+[b]), random.choice(['abs','floor','ceil','round','truncate','zero?','positive?','negative?','even?','odd?','to_s(2)','to_s(16)','to_s(37)']))
    if m=='matchq': return '%s.match?(%s)'%(b, random.choice(res+['"o"','"l+"','"."']))
    if m=='class': return random.choice(['%s.class.to_s','%s.class.name','%s.class == String','%%s.is_a?(%s)'%random.choice(classes),'%%s.kind_of?(%s)'%random.choice(classes),'%%s.instance_of?(%s)'%random.choice(classes),'%s.eql?("x")','%s.eql?(1)'])%b
    return '%s.%s'%(b,m)
def n(d=0):
    if d>2 or random.random()<0.4: return random.choice(nums)
    return '(%s %s %s)'%(any_(d+1),random.choice(['+','-','*','/','==','!=','<','<=','>','>=','<=>','%','**']),any_(d+1))
def any_(d=0):
    r=random.random()
    if r<0.45: return s(d)
    if r<0.65: return n(d)
    if r<0.72: return random.choice(arrs)
    if r<0.77: return random.choice(others)
    if r<0.8: return '(%s %s %s)'%(any_(d+1), random.choice(['=~','!~']), random.choice(res)) if random.random()<0.6 else '(%s =~ %s)'%(random.choice(res), any_(d+1))
    if r<0.83: return '%s&.%s'%(any_(d+1), random.choice(['upcase','length','to_s','keys','first','strip&.length']))
    if r<0.86: return random.choice(['!','not ','!!'])+'('+any_(d+1)+')'
    if r<0.89: return '"%s#{%s}%s"'%(random.choice(['','x-','\u00e9 ']), any_(d+1), random.choice(['','-y','#{tag}','#{record["n"]}']))
    if r<0.92: return '(%s rescue %s)'%(any_(d+1), random.choice(['"r"','nil','0',any_(d+1)]))
    if r<0.95:
        # (A string literal as a condition is not evaluated by Ruby's compiler: `!!` makes it be.)
        c, x, y = '!!(%s)' % any_(d+1), any_(d+1), any_(d+1)
        return random.choice(['(if %s then %s else %s end)'%(c, x, y), '(unless %s; %s; else; %s; end)'%(c, x, y),
                              '(if %s then %s elsif record["b"] then 1 else %s end)'%(c, x, y), '(if %s then %s end)'%(c, x),
                              '(%s if %s)'%(x, c), '(%s unless %s)'%(x, c)])
    return '(%s %s %s)'%(any_(d+1), random.choice(['||','&&']), any_(d+1)) if random.random()<0.5 else '(%s ? %s : %s)'%(any_(d+1),any_(d+1),any_(d+1))
for i in range(N):
    print(s(0) if i%2 else any_(0))
