//! The filter's clauses, parsed from tokens and checked (a comparator the field's type
//! allows, a value of the right kind).

use super::describe;
use super::field_name;
use super::tokenize;
use super::Attributes;
use super::Clause;
use super::Field;
use super::Op;
use super::Tok;
use super::Value;
use crate::domain::Invalid;

pub(super) struct Parser<A> {
    toks: Vec<Tok>,
    pos: usize,
    attributes: std::marker::PhantomData<A>,
}

impl<A: Attributes> Parser<A> {
    pub(super) fn new(s: &str) -> Result<Parser<A>, Invalid> {
        Ok(Parser {
            toks: tokenize(s)?,
            pos: 0,
            attributes: std::marker::PhantomData,
        })
    }

    pub(super) fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    pub(super) fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    pub(super) fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw))
    }

    pub(super) fn field(&mut self) -> Result<Field<A>, Invalid> {
        let entity = match self.next() {
            Some(Tok::Ident(w)) => w,
            Some(Tok::Backticked(w)) | Some(Tok::Quoted(w)) => w,
            other => {
                return Err(format!(
                    "expected an identifier such as metrics.rmse, found {}",
                    describe(other.as_ref())
                )
                .into())
            }
        };
        // `metrics.rmse`; a bare word is an attribute (MLflow accepts e.g. `status = 'FINISHED'`
        // only with a prefix, but `order_by` accepts bare attribute names).
        let key = if self.peek() == Some(&Tok::Dot) {
            self.next();
            match self.next() {
                Some(Tok::Ident(k)) | Some(Tok::Backticked(k)) | Some(Tok::Quoted(k)) => Some(k),
                Some(Tok::Number(n)) => Some(n.to_string()),
                other => {
                    return Err(format!(
                        "expected a key after `{entity}.`, found {}",
                        describe(other.as_ref())
                    )
                    .into())
                }
            }
        } else {
            None
        };
        let Some(mut key) = key else {
            return A::parse(&entity)
                .map(Field::Attribute)
                .ok_or_else(|| format!("invalid identifier `{entity}`: use metrics.<key>, params.<key>, tags.<key> or attributes.<name>")).map_err(Invalid::from);
        };
        // Keys may contain dots (`metrics.val.loss`): keep consuming `.part`.
        while self.peek() == Some(&Tok::Dot) {
            self.next();
            match self.next() {
                Some(Tok::Ident(k)) => {
                    key.push('.');
                    key.push_str(&k);
                }
                other => {
                    return Err(
                        format!("unexpected {} in key `{key}`", describe(other.as_ref())).into(),
                    )
                }
            }
        }
        match entity.to_ascii_lowercase().as_str() {
            "metric" | "metrics" => Ok(Field::Metric(key)),
            "param" | "params" | "parameter" | "parameters" => Ok(Field::Param(key)),
            "tag" | "tags" => Ok(Field::Tag(key)),
            "attribute" | "attributes" | "attr" | "run" => A::parse(&key)
                .map(Field::Attribute)
                .ok_or_else(|| {
                    format!(
                        "invalid attribute `{key}`: expected one of {}",
                        A::ALL_NAMES
                    )
                })
                .map_err(Invalid::from),
            other => Err(format!(
                "invalid entity type `{other}`: expected metrics, params, tags or attributes"
            )
            .into()),
        }
    }

    pub(super) fn op(&mut self) -> Result<Op, Invalid> {
        let t = self.next();
        Ok(match &t {
            Some(Tok::Op(o)) => match o.as_str() {
                "=" => Op::Eq,
                "!=" => Op::Ne,
                "<" => Op::Lt,
                "<=" => Op::Le,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                _ => return Err(format!("invalid comparator `{o}`").into()),
            },
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("like") => Op::Like,
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("ilike") => Op::ILike,
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("in") => Op::In,
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("not") => {
                if self.keyword("in") {
                    self.next();
                    Op::NotIn
                } else {
                    return Err("expected `IN` after `NOT`".into());
                }
            }
            other => {
                return Err(format!(
                "expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN), found {}",
                describe(other.as_ref())
            )
                .into())
            }
        })
    }

    pub(super) fn value(&mut self, op: Op) -> Result<Value, Invalid> {
        if matches!(op, Op::In | Op::NotIn) {
            if self.next() != Some(Tok::LParen) {
                return Err(format!(
                    "`{}` needs a parenthesised list such as ('a', 'b')",
                    op.sql()
                )
                .into());
            }
            let mut items = Vec::new();
            loop {
                match self.next() {
                    Some(Tok::Quoted(s)) => items.push(s),
                    Some(Tok::Number(n)) => items.push(n.to_string()),
                    other => {
                        return Err(format!(
                            "expected a quoted string in the list, found {}",
                            describe(other.as_ref())
                        )
                        .into())
                    }
                }
                match self.next() {
                    Some(Tok::Comma) => continue,
                    Some(Tok::RParen) => break,
                    other => {
                        return Err(format!(
                            "expected `,` or `)` in the list, found {}",
                            describe(other.as_ref())
                        )
                        .into())
                    }
                }
            }
            return Ok(Value::List(items));
        }
        match self.next() {
            Some(Tok::Number(n)) => Ok(Value::Number(n)),
            Some(Tok::Quoted(s)) => Ok(Value::Text(s)),
            other => Err(format!(
                "expected a number or a quoted string, found {}",
                describe(other.as_ref())
            )
            .into()),
        }
    }
}

pub(super) fn check<A: Attributes>(c: &Clause<A>) -> Result<(), Invalid> {
    let numeric = match &c.field {
        Field::Metric(_) => true,
        Field::Attribute(a) => a.is_numeric(),
        Field::Param(_) | Field::Tag(_) => false,
    };
    let ok = match (&c.value, numeric) {
        (Value::Number(_), true) => {
            matches!(c.op, Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge)
        }
        (Value::Text(_), false) => match (&c.field, c.op) {
            (Field::Attribute(a), op) if a.is_id() => matches!(op, Op::Eq | Op::Ne),
            (_, op) => matches!(op, Op::Eq | Op::Ne | Op::Like | Op::ILike),
        },
        (Value::List(_), false) => true,
        (Value::Text(_), true) => {
            return Err(format!("{} needs a number, not a string", field_name(&c.field)).into())
        }
        (Value::Number(_), false) => {
            return Err(format!("{} needs a quoted string value", field_name(&c.field)).into())
        }
        (Value::List(_), true) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "comparator `{}` is not supported for {}",
            c.op.sql(),
            field_name(&c.field)
        )
        .into())
    }
}
