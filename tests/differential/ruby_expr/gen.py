#!/usr/bin/env python3
"""Draw random expressions of logferry's Ruby subset (and around it), one a line: gen.py SEED COUNT."""
import random, sys
random.seed(int(sys.argv[1]))
N=int(sys.argv[2])
strs=['"1_2.5e3x"','" -.5"','"7e"','"3.e2"','"1__2"','"+-1"','"12_"','"4.5E+1_0"','"0.1e-400"','"tab\\tx\\s"',"'it\\'s \\\\n'",'time.strftime(\'%Y-%j %s %N %z\')','time.to_s','Time.now.to_i.to_s','record["m"]','record["sp"]','record["u"]','record["e"]','record["w"]','"a-b_c"',"'x y'",'tag','hostname.to_s.length.to_s']
nums=['time.to_i','time.to_f','-7','1_000','record["neg"]','record["f"]','record["z"]','-3','7','2.5','0']
arrs=['record["a"]','tag_parts','tag_prefix','record["s"].split("-")','[1, "x", nil]','record["s"].scan(/[a-z]/)']
others=['record["n"]','record["h"]','record["b"]','nil','true','record']
res=['/A/i','/^b/m','/ a # c\n/x'.replace('\n',''),'/\\d+/','/(?<y>l)+/','/\\//','/(\\w)(\\d)?/','/x*/','/^/','/(?<p>[aeiou])/','/\\s+/','/./','/$/','/b|$/','/-/']
reps=['"<\\\\0>"','"\\\\1"','"[\\\\k<p>]"','""','"\\\\\\\\"',"'$'",'"\\\\`"',"\"\\\\'\""]
def s(d=0):
    if d>2: return random.choice(strs)
    r=random.random()
    if r<0.3: return random.choice(strs)
    b=any_(d+1)
    m=random.choice(['gsub','sub','scan','match','strip','upcase','downcase','split','length','to_s','to_i','[]','range','join','to_f','to_f','first','last','size','nil?','empty?','start_with?','include?','+','*','idx2'])
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
    return '%s.%s'%(b,m)
def n(d=0):
    if d>2 or random.random()<0.4: return random.choice(nums)
    return '(%s %s %s)'%(any_(d+1),random.choice(['+','-','*','/','==','!=']),any_(d+1))
def any_(d=0):
    r=random.random()
    if r<0.5: return s(d)
    if r<0.7: return n(d)
    if r<0.8: return random.choice(arrs)
    if r<0.85: return random.choice(others)
    if r<0.9: return random.choice(['!','not ','!!'])+'('+any_(d+1)+')'
    return '(%s %s %s)'%(any_(d+1), random.choice(['||','&&']), any_(d+1)) if random.random()<0.5 else '(%s ? %s : %s)'%(any_(d+1),any_(d+1),any_(d+1))
for i in range(N):
    print(s(0) if i%2 else any_(0))
